package dev.firebreak.bootstrap;

/**
 * What {@link Probe} calls. The agent installs one implementation; until then, and whenever the
 * agent is stopped, {@link #NOOP} lets every call through untracked.
 *
 * <p>Lives in the bootstrap class loader with {@link Probe} so that instrumented classes of every
 * class loader can reach it; it must depend on nothing outside {@code java.base}.
 */
public abstract class Dispatcher {

  /** Token for a call that runs but is not tracked (no rules for it, or the agent is off). */
  public static final long UNTRACKED = 1L;

  /** Token for a call that is short-circuited: its body is skipped and the fallback applies. */
  public static final long SHORT_CIRCUIT = 0L;

  public static final Dispatcher NOOP =
      new Dispatcher() {
        @Override
        public long enter(int methodId, Object firstArgument, Object thread) {
          return UNTRACKED;
        }

        @Override
        public void exit(int methodId, long token, Object thread) {}

        @Override
        public Object fallback(int methodId, Object argument) {
          return null;
        }
      };

  /**
   * The calling thread's state, which the advice keeps in a local and hands to {@link #enter} and
   * {@link #exit}: one thread-local lookup per call instead of two. Null when there is none; enter
   * and exit then look it up themselves.
   */
  public Object thread() {
    return null;
  }

  /**
   * Called before the method body. Returns {@link #SHORT_CIRCUIT} to skip the body, {@link
   * #UNTRACKED}, or any other value: a token that {@link #exit} gets back.
   *
   * @param thread what {@link #thread()} returned on this thread, or null
   */
  public abstract long enter(int methodId, Object firstArgument, Object thread);

  /** Called after the body returned or threw, for calls whose token was neither 0 nor 1. */
  public abstract void exit(int methodId, long token, Object thread);

  /** The calling thread went deep under the auto-fence's net: by default, nothing happens. */
  public void deep() {}

  /** A stack overflow unwinds through a method under the auto-fence's net: by default, nothing. */
  public void overflow(Throwable error) {}

  /**
   * The value a short-circuited call returns, or a {@link ShortCircuitException} that it throws.
   *
   * @param argument the argument named by a {@code return-arg:N} fallback, else null
   */
  public abstract Object fallback(int methodId, Object argument);
}
