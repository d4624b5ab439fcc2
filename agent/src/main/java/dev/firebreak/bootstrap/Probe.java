package dev.firebreak.bootstrap;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The static facade the woven code calls. Everything here is cheap, never throws, and never
 * allocates: a failure inside the agent is counted and the call goes on untracked.
 */
public final class Probe {

  private static volatile Dispatcher dispatcher = Dispatcher.NOOP;

  /** Errors inside the agent caught on application threads; exported as agent errors. */
  private static final AtomicLong errors = new AtomicLong();

  /**
   * Open while the agent starts (default start): a method woven with the pending entry (its class
   * loaded before the rules were read) waits in {@link #pending} until the rules are in force and
   * its class is instrumented as they say.
   */
  private static volatile boolean pendingOpen;

  private static final CountDownLatch PENDING = new CountDownLatch(1);

  /** Calls that waited in {@link #pending}: the agent's start stops yielding at the first. */
  private static final AtomicInteger pendingWaits = new AtomicInteger();

  /** How long a call waits in {@link #pending} at most; then it runs unwatched (counted). */
  private static final long MAX_PENDING_SECONDS = 60;

  private Probe() {}

  /** The agent is starting: from now on the gate may weave the pending entry. */
  public static void openPending() {
    if (PENDING.getCount() > 0) {
      pendingOpen = true;
    }
  }

  /** How many calls waited in {@link #pending} so far. */
  public static int pendingWaits() {
    return pendingWaits.get();
  }

  /** The rules are in force and the pending classes instrumented: waiting calls go on. */
  public static void releasePending() {
    pendingOpen = false;
    PENDING.countDown();
  }

  /**
   * The pending entry of a method whose class loaded while the agent was starting: false at once
   * when the agent has started (the body runs); otherwise waits until it has and returns true, and
   * the caller calls the method again, now instrumented. Blocks only during the agent's start, as
   * the class would have at load time.
   */
  public static boolean pending() {
    if (!pendingOpen) {
      return false;
    }
    try {
      pendingWaits.incrementAndGet();
      if (PENDING.await(MAX_PENDING_SECONDS, TimeUnit.SECONDS)) {
        return true;
      }
      pendingOpen = false; // the agent did not come: no other call waits for it
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      // below: unwatched
    }
    errors.incrementAndGet();
    return false;
  }

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
