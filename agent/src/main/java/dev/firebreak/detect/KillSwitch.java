package dev.firebreak.detect;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One target's kill switch: closed → open → half-open → closed (or open again).
 *
 * <p>State changes go through {@link #transition} by compare-and-set against the table of legal
 * moves, so concurrent trips and timeouts cannot produce an illegal state. Time is passed in as
 * {@code System.nanoTime()}-style values, so tests drive it without sleeping.
 */
public final class KillSwitch {

  public enum State {
    CLOSED(0),
    OPEN(1),
    HALF_OPEN(2);

    /** The value of the {@code firebreak_kill_switch_state} gauge. */
    public final int gauge;

    State(int gauge) {
      this.gauge = gauge;
    }
  }

  /** Result of {@link #admit}. */
  public static final int ADMIT = 0;

  public static final int TRIAL = 1;
  public static final int REJECT = 2;

  private static final State[] STATES = State.values();

  /** LEGAL[from][to]: the transition table. Manual open/close may move from any state. */
  private static final boolean[][] LEGAL = {
    //            CLOSED OPEN  HALF_OPEN
    /* CLOSED */ {false, true, false},
    /* OPEN */ {true, true, true},
    /* HALF_OPEN */ {true, true, false},
  };

  private final AtomicInteger state = new AtomicInteger(State.CLOSED.ordinal());
  private final AtomicInteger permits = new AtomicInteger();
  private final AtomicInteger successes = new AtomicInteger();
  private volatile long openedAt;
  private volatile long halfOpenedAt;
  private volatile long openForNanos;
  private volatile int halfOpenCalls;
  private volatile String openedBy = "";

  public KillSwitch(long openForNanos, int halfOpenCalls) {
    configure(openForNanos, halfOpenCalls);
  }

  /** A reload may change the timings; the state is kept. */
  public void configure(long openForNanos, int halfOpenCalls) {
    this.openForNanos = openForNanos;
    this.halfOpenCalls = Math.max(1, halfOpenCalls);
  }

  public State state() {
    return STATES[state.get()];
  }

  /** The rule (or "admin") that opened the switch last. */
  public String openedBy() {
    return openedBy;
  }

  public static boolean isLegal(State from, State to) {
    return LEGAL[from.ordinal()][to.ordinal()];
  }

  private boolean transition(State from, State to) {
    if (!isLegal(from, to)) {
      return false;
    }
    return state.compareAndSet(from.ordinal(), to.ordinal());
  }

  /**
   * May a new outermost call run? {@link #ADMIT} when closed, {@link #TRIAL} for one of the
   * half-open trial calls, {@link #REJECT} to short-circuit it.
   */
  public int admit(long now) {
    return admit(now, false);
  }

  /** {@link #poll} then {@link #admit(boolean)}: what a caller holding the time does. */
  public int admit(long now, boolean nested) {
    poll(now);
    return admit(nested);
  }

  public long openForNanos() {
    return openForNanos;
  }

  /**
   * The hot path's check: no clock read. An open switch is half-opened by {@link #poll}, which
   * the evaluator calls often enough (open-for / 4) to keep open-for accurate.
   *
   * @param nested the thread is already inside an admitted call of this target (recursion): a
   *     half-open switch lets it through as part of that trial instead of spending a permit
   */
  public int admit(boolean nested) {
    int s = state.get();
    if (s == 0) {
      return ADMIT;
    }
    if (s == 1) {
      // open until poll() half-opens it: the hot path reads no clock for a rejected call
      return REJECT;
    }
    if (nested) {
      return ADMIT;
    }
    for (; ; ) {
      int p = permits.get();
      if (p <= 0) {
        return REJECT;
      }
      if (permits.compareAndSet(p, p - 1)) {
        return TRIAL;
      }
    }
  }

  private void halfOpen() {
    // permits are set before the state flips so no caller sees half-open with stale permits
    int calls = halfOpenCalls;
    if (state.get() == State.OPEN.ordinal()) {
      permits.set(calls);
      successes.set(0);
      transition(State.OPEN, State.HALF_OPEN);
    }
  }

  /** A rule tripped: open now (from closed, half-open, or again from open). */
  public void trip(long now, String rule) {
    openedAt = now;
    openedBy = rule;
    for (; ; ) {
      State from = state();
      if (transition(from, State.OPEN)) {
        return;
      }
    }
  }

  /** Opened by hand: stays open for open-for, then half-opens as usual. */
  public void forceOpen(long now) {
    trip(now, "admin");
  }

  /** Closed by hand. */
  public void forceClose() {
    permits.set(0);
    state.set(State.CLOSED.ordinal());
  }

  /** A half-open trial call finished without tripping a rule. */
  public void trialSucceeded() {
    if (state.get() == State.HALF_OPEN.ordinal()
        && successes.incrementAndGet() >= halfOpenCalls) {
      transition(State.HALF_OPEN, State.CLOSED);
    }
  }

  /**
   * Called by the evaluator: half-opens an open switch whose open-for has passed; and opens
   * again a half-open switch whose trial calls have not all finished within another open-for
   * (a trial that hangs must not keep the switch half-open, rejecting everything, for good).
   */
  public void poll(long now) {
    int s = state.get();
    if (s == State.OPEN.ordinal() && now - openedAt >= openForNanos) {
      halfOpenedAt = now;
      halfOpen();
    } else if (s == State.HALF_OPEN.ordinal() && now - halfOpenedAt >= openForNanos) {
      trip(now, openedBy);
    }
  }
}
