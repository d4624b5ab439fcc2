package dev.firebreak.runtime;

import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import org.HdrHistogram.Histogram;

/**
 * What one application thread needs on the hot path: its depth tracking (by counter id), its frame
 * stack, and its call counts and time sums by method id. Sized lazily: a thread that calls one
 * method of one target holds a few hundred bytes, whatever the number of methods instrumented, and
 * latencies go to the shared {@link LatencyRecorder}s, never into the thread's state. Most states
 * are places of the engine's tables, lent from thread to thread with their counts (see {@link
 * Engine#hold} and {@link Engine#claim}); a platform thread's state of its own, once it is dead, is
 * released by the evaluator (within one round, or sooner while threads keep starting) with its
 * counts folded into the retired totals.
 *
 * <p>Concurrency contract: the owning thread writes every field and array element, with plain or
 * opaque stores and no atomic read-modify-write, except {@code maxDepth}, which the agent's reader
 * takes with {@code getAndSet} (a lost maximum between two scrapes is the cost). The reader thread
 * (evaluator, /metrics) only reads, with opaque reads. Arrays replaced by a larger copy are
 * published after a release fence and read before an acquire fence, so a reader never sees an array
 * before its contents, on any processor; the hot path keeps its plain reads (the owner reads what
 * it wrote). No shared cache line is written by two threads.
 *
 * <p>The frame stack records what each tracked {@code enter} did (the target plan in force then,
 * its start time, its trial ticket) so that its {@code exit} undoes exactly that, whatever rules
 * are in force by then.
 */
final class ThreadState {
  static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

  /** 1 significant digit: ~6% resolution; 64 ns to 1 h (see {@link LatencyRecorder}). */
  static final long LOWEST_NANOS = 64;

  static final long HIGHEST_NANOS = 3_600_000_000_000L;
  static final int DIGITS = 1;
  private static final int FRAMES = 4;
  private static final long[] NO_LONGS = new long[0];
  private static final int[] NO_INTS = new int[0];

  private static final VarHandle OWNER;

  static {
    try {
      OWNER = MethodHandles.lookup().findVarHandle(ThreadState.class, "owner", Thread.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A platform thread's state: its thread, to see it die. Null for a pooled state. */
  final WeakReference<Thread> thread;

  /**
   * A pooled state's place in the engine's table of virtual threads' states (see {@link
   * Engine#claim}), or -1: a platform thread's state, or a pooled state lent through the idle pool
   * and a thread-local (the table's places for the thread were all taken).
   */
  final int slot;

  /**
   * A pooled state (virtual threads): lent to one thread at a time, from its first tracked call to
   * the end of its outermost one, then given back, counts and all: to its place in the engine's
   * table, or to the engine's idle pool. So a virtual thread per request costs no state of its own,
   * and states number as many as threads inside a watched call at once.
   */
  final boolean pooled;

  /**
   * A state of the platform threads' table (see {@link Engine#hold}): held by one platform thread
   * for its life, then, once the evaluator saw that thread dead, by the next one, counts and all.
   */
  final boolean held;

  /** A pooled state's borrower, null while idle (written by the borrower, CAS by the evaluator). */
  @SuppressWarnings("unused") // through OWNER
  private volatile Thread owner;

  /**
   * The stripe of the latency recorders this state writes, -1 until its first timed call (see
   * {@link LatencyRecorder.Stripes#claim}); a pooled state keeps it from borrower to borrower.
   */
  int stripe = -1;

  long[] calls = NO_LONGS;
  long[] sumNanos = NO_LONGS;

  /** By counter id: the live depth of each target and group on this thread. */
  int[] depth = NO_INTS;

  /** By counter id: the deepest depth seen since the reader last took it. */
  int[] maxDepth = NO_INTS;

  /** By counter id: the start time of the outermost call in flight (for the watchdog). */
  long[] outerStart = NO_LONGS;

  /** By counter id ("budget:" slots): calls counted inside the current invocation of `of`. */
  long[] budget = NO_LONGS;

  /** By counter id: the method id of the outermost call in flight. */
  int[] outerMethod = NO_INTS;

  // the frame stack: one entry per tracked call in flight on this thread (owner only)
  TargetPlan[] frames = new TargetPlan[FRAMES];
  long[] frameStart = new long[FRAMES];
  long[] frameTicket = new long[FRAMES];
  int top;

  // what the last short-circuit on this thread was, for its fallback (owner only)
  MethodPlan lastPlan;
  String lastRule;
  String lastTarget;
  int lastDepth;
  boolean lastOpen;

  ThreadState(Thread thread) {
    this.thread = new WeakReference<>(thread);
    this.pooled = false;
    this.held = false;
    this.slot = -1;
  }

  private ThreadState(int slot, boolean pooled, boolean held) {
    this.thread = null;
    this.pooled = pooled;
    this.held = held;
    this.slot = slot;
  }

  /** A state of the platform threads' table, at place {@code slot}, held by nobody yet. */
  static ThreadState held(int slot) {
    return new ThreadState(slot, false, true);
  }

  /** A pooled state of the idle pool, first lent to {@code borrower}. */
  ThreadState(Thread borrower, boolean pooled) {
    this.thread = null;
    this.pooled = pooled;
    this.held = false;
    this.slot = -1;
    OWNER.setRelease(this, borrower);
  }

  /** A pooled state of the engine's table, at place {@code slot}, lent to nobody yet. */
  ThreadState(int slot) {
    this(slot, true, false);
  }

  /** Lends a pooled state to the calling thread (it came out of the idle pool). */
  void lend(Thread borrower) {
    OWNER.setRelease(this, borrower);
  }

  /**
   * Lends a pooled state of the table to {@code borrower} if nobody holds it: one compare-and-set,
   * whose acquire side makes everything the last borrower (or the evaluator) wrote visible.
   */
  boolean tryLend(Thread borrower) {
    return OWNER.getOpaque(this) == null && OWNER.compareAndSet(this, null, borrower);
  }

  /**
   * True if {@code t} holds this pooled state. An opaque read is enough: only {@code t} itself
   * makes it its own, so it reads either its own last write or a later one by another thread.
   */
  boolean lentTo(Thread t) {
    return OWNER.getOpaque(this) == t;
  }

  /**
   * The borrower (or the evaluator, for a dead one) gives a pooled state back: the release store
   * that frees a place of the table, so it comes after every other write to the state.
   */
  void giveBack() {
    lastPlan = null;
    lastRule = null;
    lastTarget = null;
    OWNER.setRelease(this, null);
  }

  /**
   * On the evaluator: a pooled state whose borrower died holding it (in the middle of a call, or
   * after an enter that failed) is taken back, its frames undone. True if it was; the caller puts
   * it back where it came from ({@link Engine#reclaimed}).
   */
  boolean reclaimFromDeadBorrower() {
    Thread o = (Thread) OWNER.getAcquire(this);
    if (o == null || o.isAlive()) {
      return false;
    }
    // a dead borrower never gives it back nor borrows again: the CAS only fails if we raced
    // another reclaim; what the borrower wrote happened before isAlive() saw it dead. The
    // evaluator holds it while it undoes the frames: a state of the table is free to be lent
    // again as soon as its owner is null, so that comes last, with release semantics.
    if (!OWNER.compareAndSet(this, o, Thread.currentThread())) {
      return false;
    }
    if (top > 0) {
      pop(0);
    }
    if (held) {
      freeStripe = stripe; // the next thread may own another stripe: the evaluator releases this
      stripe = -1;
    }
    giveBack();
    return true;
  }

  /**
   * Platform thread {@code t} takes over this held state if the thread holding it is dead (it found
   * every place of its window held): its frames undone, as the evaluator would. True if it did.
   */
  boolean takeOverFromDeadHolder(Thread t) {
    Thread o = (Thread) OWNER.getAcquire(this);
    if (o == null || o.isAlive() || !OWNER.compareAndSet(this, o, t)) {
      return false; // what the dead thread wrote happened before isAlive() saw it dead
    }
    if (top > 0) {
      pop(0);
    }
    lastPlan = null;
    lastRule = null;
    lastTarget = null;
    return true;
  }

  /** A held state's stripe its dead thread owned, for the evaluator to release; -1 if none. */
  int freeStripe = -1;

  /** The thread using this state now (null if none, or if it was collected). */
  Thread currentThread() {
    return thread != null ? thread.get() : (Thread) OWNER.getAcquire(this);
  }

  static Histogram newHistogram() {
    return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
  }

  /**
   * Makes room, if there is none, for method {@code id}, {@code counters} counter slots and one
   * more frame. The only place the hot path allocates, and it runs before enter changes any state,
   * so an OutOfMemoryError here leaves the thread's state as it was.
   */
  void ensure(int id, int counters) {
    if (id >= calls.length || counters > depth.length || top >= frames.length) {
      grow(id, counters);
    }
  }

  private void grow(int id, int counters) {
    if (top >= frames.length) {
      int n = frames.length * 2;
      frameStart = Arrays.copyOf(frameStart, n);
      frameTicket = Arrays.copyOf(frameTicket, n);
      frames = Arrays.copyOf(frames, n);
    }
    if (id >= calls.length) {
      int n = Math.max(id + 1, calls.length * 2);
      long[] c = Arrays.copyOf(calls, n);
      long[] s = Arrays.copyOf(sumNanos, n);
      VarHandle.releaseFence(); // the copies' contents before the references (see the class doc)
      sumNanos = s;
      calls = c;
    }
    if (counters > depth.length) {
      int n = Math.max(counters, depth.length * 2);
      int[] m = Arrays.copyOf(maxDepth, n);
      long[] o = Arrays.copyOf(outerStart, n);
      int[] om = Arrays.copyOf(outerMethod, n);
      long[] b = Arrays.copyOf(budget, n);
      int[] d = Arrays.copyOf(depth, n);
      VarHandle.releaseFence();
      maxDepth = m;
      outerStart = o;
      outerMethod = om;
      budget = b;
      depth = d;
    }
  }

  void countCall(int id) {
    long[] c = calls;
    LONGS.setOpaque(c, id, c[id] + 1);
  }

  /**
   * Undoes the depth step of frame {@code f} and pops it, with any frames above it (calls whose
   * exit was lost). Plain stores and no call inside: a StackOverflowError can only strike before it
   * starts, and then the next exit out does this work.
   */
  void pop(int f) {
    int[] depth = this.depth;
    TargetPlan[] frames = this.frames;
    for (int i = top - 1; i >= f; i--) {
      TargetPlan t = frames[i];
      depth[t.counter] = depth[t.counter] - 1;
      if (t.grouped) {
        depth[t.ownCounter] = depth[t.ownCounter] - 1;
      }
      frames[i] = null;
      top = i;
    }
  }

  /** The time of a completed call, into this thread's sum (its latency goes to the recorder). */
  void addNanos(int id, long nanos) {
    long[] s = sumNanos;
    LONGS.setOpaque(s, id, s[id] + nanos);
  }

  // reader side: an array is read from its field, then an acquire fence, then its elements

  private static <T> T acquired(T array) {
    VarHandle.acquireFence();
    return array;
  }

  long calls(int id) {
    long[] c = acquired(calls);
    return id < c.length ? (long) LONGS.getOpaque(c, id) : 0;
  }

  long sumNanos(int id) {
    long[] s = acquired(sumNanos);
    return id < s.length ? (long) LONGS.getOpaque(s, id) : 0;
  }

  /** Adds this thread's call counts into {@code into} (by method id; as long as the registry). */
  void addCallsTo(long[] into) {
    long[] c = acquired(calls);
    for (int i = 0; i < c.length && i < into.length; i++) {
      into[i] += (long) LONGS.getOpaque(c, i);
    }
  }

  /** Adds this thread's time sums into {@code into}. */
  void addNanosTo(long[] into) {
    long[] s = acquired(sumNanos);
    for (int i = 0; i < s.length && i < into.length; i++) {
      into[i] += (long) LONGS.getOpaque(s, i);
    }
  }

  int depth(int counter) {
    int[] d = acquired(depth);
    return counter < d.length ? (int) INTS.getOpaque(d, counter) : 0;
  }

  long outerStart(int counter) {
    long[] s = acquired(outerStart);
    return counter < s.length ? (long) LONGS.getOpaque(s, counter) : 0;
  }

  int outerMethod(int counter) {
    int[] m = acquired(outerMethod);
    return counter < m.length ? (int) INTS.getOpaque(m, counter) : -1;
  }

  int peekMaxDepth(int counter) {
    int[] m = acquired(maxDepth);
    return counter < m.length ? (int) INTS.getOpaque(m, counter) : 0;
  }

  int takeMaxDepth(int counter) {
    int[] m = acquired(maxDepth);
    if (counter >= m.length) {
      return 0;
    }
    return (int) INTS.getAndSet(m, counter, 0);
  }

  /**
   * False once a platform thread with a state of its own is dead; a pooled or held state is never
   * dead (the evaluator frees it for another thread instead).
   */
  boolean alive() {
    if (pooled || held) {
      return true;
    }
    Thread t = thread.get();
    return t != null && t.isAlive();
  }
}
