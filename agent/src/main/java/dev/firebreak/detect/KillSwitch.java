package dev.firebreak.detect;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One target's kill switch: closed → open → half-open → closed (or open again).
 *
 * <p>The whole state is one word, changed only by compare-and-set: the state, the trial permits
 * left and the trials that succeeded in this half-open round, and a generation that every
 * transition increments. Every transition, forced ones included, goes through {@link #transition}
 * and its table of legal moves. A trial carries the generation of the round that admitted it
 * ({@link #admit(boolean)} returns it as a ticket), so a trial of an earlier round never counts for
 * a later one, and a trip that lands between a check and an action makes the action's
 * compare-and-set fail instead of being overwritten.
 *
 * <p>Threads: {@link #admit(boolean)}, {@link #trialSucceeded}, {@link #trip} and the forced moves
 * from any thread; {@link #poll} from one thread at a time (the evaluator). Time is passed in as
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

  /** {@link #admit(boolean)}: run the call, it is no trial. */
  public static final long ADMIT = 0L;

  /** {@link #admit(boolean)}: short-circuit the call. Any other value is a trial's ticket. */
  public static final long REJECT = -1L;

  /** The most trial calls a round can have (the word keeps 20 bits for each count). */
  public static final int MAX_HALF_OPEN_CALLS = (1 << 20) - 1;

  private static final State[] STATES = State.values();

  /** LEGAL[from][to]: the transition table. */
  private static final boolean[][] LEGAL = {
    //            CLOSED OPEN  HALF_OPEN
    /* CLOSED */ {false, true, false},
    /* OPEN */ {true, true, true},
    /* HALF_OPEN */ {true, true, false},
  };

  // the word: bits 0-1 state, 2-21 permits left, 22-41 successes, 42-63 generation
  private static final int PERMITS_SHIFT = 2;
  private static final int SUCCESSES_SHIFT = 22;
  private static final int GENERATION_SHIFT = 42;
  private static final long COUNT_MASK = MAX_HALF_OPEN_CALLS;

  private final AtomicLong word = new AtomicLong();
  private volatile long openedAt;
  private volatile long openForNanos;
  private volatile int halfOpenCalls;

  /** The trial calls of the current half-open round (halfOpenCalls when the round began). */
  private volatile int roundCalls;

  private volatile String openedBy = "";
  // poll()'s own: since when the current round has had trials in flight
  private long outstandingSince = Long.MIN_VALUE;
  private long outstandingGeneration = -1;

  public KillSwitch(long openForNanos, int halfOpenCalls) {
    configure(openForNanos, halfOpenCalls);
  }

  /** A reload may change the timings; the state is kept (a running round keeps its trials). */
  public void configure(long openForNanos, int halfOpenCalls) {
    this.openForNanos = openForNanos;
    this.halfOpenCalls = Math.min(MAX_HALF_OPEN_CALLS, Math.max(1, halfOpenCalls));
  }

  private static int stateOf(long w) {
    return (int) (w & 3);
  }

  private static int permitsOf(long w) {
    return (int) ((w >>> PERMITS_SHIFT) & COUNT_MASK);
  }

  private static int successesOf(long w) {
    return (int) ((w >>> SUCCESSES_SHIFT) & COUNT_MASK);
  }

  private static long generationOf(long w) {
    return w >>> GENERATION_SHIFT;
  }

  private static long word(long generation, State s, int permits, int successes) {
    return (generation << GENERATION_SHIFT)
        | ((long) successes << SUCCESSES_SHIFT)
        | ((long) permits << PERMITS_SHIFT)
        | s.ordinal();
  }

  public State state() {
    return STATES[stateOf(word.get())];
  }

  /** Incremented by every transition: a round's identity. */
  public long generation() {
    return generationOf(word.get());
  }

  /** The rule (or "admin", or the trial timeout) that opened the switch last. */
  public String openedBy() {
    return openedBy;
  }

  public long openForNanos() {
    return openForNanos;
  }

  public static boolean isLegal(State from, State to) {
    return LEGAL[from.ordinal()][to.ordinal()];
  }

  /**
   * The one way the state changes: from exactly the word {@code seen} to {@code to} with the next
   * generation, if the table allows it. False if it does not, or if another change came first (the
   * caller then looks again).
   */
  private boolean transition(long seen, State to, int permits) {
    if (!isLegal(STATES[stateOf(seen)], to)) {
      return false;
    }
    return word.compareAndSet(seen, word(generationOf(seen) + 1, to, permits, 0));
  }

  /**
   * May a new call run? {@link #ADMIT} when closed (or nested in an admitted call), {@link #REJECT}
   * to short-circuit it, or a trial's ticket (positive) for one of the half-open trial calls: hand
   * it to {@link #trialSucceeded} when the call ends. No clock read: an open switch is half-opened
   * by {@link #poll}, which the evaluator calls often enough (open-for / 4).
   *
   * @param nested the thread is already inside an admitted call of this target (recursion): a
   *     half-open switch lets it through as part of that trial instead of spending a permit
   */
  public long admit(boolean nested) {
    long w = word.get();
    int s = stateOf(w);
    if (s == 0) {
      return ADMIT;
    }
    if (s == 1) {
      return REJECT;
    }
    return nested ? ADMIT : trial(w);
  }

  private long trial(long w) {
    for (; ; ) {
      if (stateOf(w) != State.HALF_OPEN.ordinal()) {
        return stateOf(w) == 0 ? ADMIT : REJECT;
      }
      if (permitsOf(w) == 0) {
        return REJECT;
      }
      if (word.compareAndSet(w, w - (1L << PERMITS_SHIFT))) {
        return generationOf(w) + 1;
      }
      w = word.get();
    }
  }

  /** A rule tripped: open now (from closed, half-open, or again from open). */
  public void trip(long now, String rule) {
    openedAt = now;
    openedBy = rule;
    for (; ; ) {
      long w = word.get();
      if (transition(w, State.OPEN, 0)) {
        return;
      }
    }
  }

  /** Opened by hand: stays open for open-for, then half-opens as usual. */
  public void forceOpen(long now) {
    trip(now, "admin");
  }

  /** Closed by hand (or a changed target starting over): through the table like any move. */
  public void forceClose() {
    for (; ; ) {
      long w = word.get();
      if (stateOf(w) == State.CLOSED.ordinal() || transition(w, State.CLOSED, 0)) {
        return;
      }
    }
  }

  /**
   * A trial call of round {@code ticket} finished without tripping a rule. Counts only while that
   * round is still the one in force; the last success closes the switch.
   */
  public void trialSucceeded(long ticket) {
    long generation = ticket - 1;
    for (; ; ) {
      long w = word.get();
      if (stateOf(w) != State.HALF_OPEN.ordinal() || generationOf(w) != generation) {
        return;
      }
      int successes = successesOf(w) + 1;
      boolean done =
          successes >= roundCalls
              ? transition(w, State.CLOSED, 0)
              : word.compareAndSet(w, w + (1L << SUCCESSES_SHIFT));
      if (done) {
        return;
      }
    }
  }

  /** What {@link #poll} did. */
  public enum Poll {
    NOTHING,
    HALF_OPENED,
    /** A trial did not finish within open-for of the round's first trial: open again. */
    TRIAL_TIMED_OUT
  }

  /**
   * Called by the evaluator: half-opens an open switch whose open-for has passed. A half-open
   * switch waits for traffic: only once a trial is in flight does a deadline run (open-for from
   * when poll first saw it), after which a trial that hangs opens the switch again instead of
   * keeping it half-open, rejecting everything, for good.
   */
  public synchronized Poll poll(long now) {
    long w = word.get();
    int s = stateOf(w);
    if (s == State.OPEN.ordinal()) {
      if (now - openedAt >= openForNanos) {
        int calls = halfOpenCalls;
        roundCalls = calls;
        if (transition(w, State.HALF_OPEN, calls)) {
          return Poll.HALF_OPENED;
        }
      }
      return Poll.NOTHING;
    }
    if (s != State.HALF_OPEN.ordinal()) {
      return Poll.NOTHING;
    }
    int inFlight = roundCalls - permitsOf(w) - successesOf(w);
    long generation = generationOf(w);
    if (inFlight <= 0) {
      outstandingGeneration = -1;
      return Poll.NOTHING;
    }
    if (outstandingGeneration != generation) {
      outstandingGeneration = generation;
      outstandingSince = now;
      return Poll.NOTHING;
    }
    if (now - outstandingSince < openForNanos) {
      return Poll.NOTHING;
    }
    if (!transition(w, State.OPEN, 0)) {
      return Poll.NOTHING; // something else moved first (a trip, a success): look again next round
    }
    openedAt = now;
    openedBy = "trial-timeout";
    outstandingGeneration = -1;
    return Poll.TRIAL_TIMED_OUT;
  }
}
