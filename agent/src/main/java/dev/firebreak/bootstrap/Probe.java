package dev.firebreak.bootstrap;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The static facade the woven code calls. Everything here is cheap, never throws, and never
 * allocates: a failure inside the agent is counted and the call goes on untracked.
 */
public final class Probe {

  private static volatile Dispatcher dispatcher = Dispatcher.NOOP;

  /** Errors inside the agent caught on application threads; exported as agent errors. */
  private static final AtomicLong errors = new AtomicLong();

  private Probe() {}

  public static void install(Dispatcher d) {
    dispatcher = d == null ? Dispatcher.NOOP : d;
  }

  public static long errors() {
    return errors.get();
  }

  /** The calling thread's state for {@link #enter} and {@link #exit}, or null. */
  public static Object thread() {
    try {
      return dispatcher.thread();
    } catch (Throwable t) {
      errors.incrementAndGet();
      return null;
    }
  }

  public static long enter(int methodId, Object firstArgument, Object thread) {
    try {
      return dispatcher.enter(methodId, firstArgument, thread);
    } catch (Throwable t) {
      errors.incrementAndGet();
      return Dispatcher.UNTRACKED;
    }
  }

  /** Ends a call {@link #enter} admitted; does nothing for the tokens of an untracked call. */
  public static void exit(int methodId, long token, Object thread) {
    if (token == Dispatcher.SHORT_CIRCUIT || token == Dispatcher.UNTRACKED) {
      return; // 0: enter failed inside the agent (the advice's default), 1: not watched
    }
    try {
      dispatcher.exit(methodId, token, thread);
    } catch (Throwable t) {
      errors.incrementAndGet();
    }
  }

  /** The calling thread went deep under the auto-fence's net ({@link Net}). */
  public static void deep() {
    try {
      dispatcher.deep();
    } catch (Throwable t) {
      errors.incrementAndGet();
    }
  }

  /**
   * A stack overflow unwinds through a method under the auto-fence's net. False when the report
   * failed (it may itself run out of stack): the caller tries again further down.
   */
  public static boolean overflow(Throwable error) {
    try {
      dispatcher.overflow(error);
      return true;
    } catch (Throwable t) {
      return false;
    }
  }

  /**
   * What a short-circuited call returns: the fallback's value, or it throws the fallback's {@link
   * ShortCircuitException} (the one deliberate throw of the agent).
   */
  public static Object shortCircuit(int methodId, Object argument) {
    Object fallback = fallback(methodId, argument);
    if (fallback instanceof ShortCircuitException e) {
      throw e;
    }
    return fallback;
  }

  /** The fallback of a short-circuited call: a value to return, or a ShortCircuitException. */
  public static Object fallback(int methodId, Object argument) {
    try {
      return dispatcher.fallback(methodId, argument);
    } catch (Throwable t) {
      errors.incrementAndGet();
      return null;
    }
  }
}
