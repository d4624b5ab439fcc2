package dev.firebreak.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.HdrHistogram.Histogram;

/**
 * One method's completed-call latencies, shared by every thread: a fixed number of stripes of
 * bucket counts, so its size depends on the number of processors, never on how many threads there
 * are or were. A stripe's row is allocated on the first call that lands in it and published with a
 * compare-and-set.
 *
 * <p>Two kinds of stripe. An <em>owned</em> stripe ({@code 0 .. OWNED-1}) has one writer at a time:
 * the thread state that claimed it from the engine's {@link Stripes} on its first timed call, in
 * every recorder. Its owner adds one with a plain read and an opaque store, no atomic instruction:
 * the atomic add this replaces cost a timed call more than the clock floor allows (issue 15). A
 * <em>shared</em> stripe ({@code OWNED ..}) is for the threads that found every owned stripe taken:
 * they add with one atomic add, so threads that share a stripe stay exact.
 *
 * <p>A stripe changes hands only with a happens-before edge, so its next owner continues from every
 * count its last owner wrote: a platform thread's stripe is released by the evaluator once it has
 * seen the thread dead ({@link Thread#isAlive()} false), then claimed with a compare-and-set; a
 * pooled state (virtual threads) keeps its stripe and goes from borrower to borrower through a
 * compare-and-set on its owner (the engine's table) or the engine's idle queue. So counts are
 * exact, whichever kind of stripe they went to.
 *
 * <p>The buckets are exactly those of {@code new Histogram(LOWEST_NANOS, HIGHEST_NANOS, 1)} (same
 * index, same lowest equivalent value), so the evaluator turns counts into an HdrHistogram for the
 * latency windows and /metrics without losing anything. Counts only grow: the reader takes
 * intervals as differences, bucket by bucket (opaque reads of single longs), which can never be
 * torn.
 */
final class LatencyRecorder {
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle ROWS = MethodHandles.arrayElementVarHandle(long[][].class);

  // HdrHistogram's layout for lowest 64 ns (unit magnitude 6) and 1 significant digit (32
  // sub-buckets, half of them 16)
  private static final int UNIT_MAGNITUDE = 6;
  private static final int SUB_HALF_MAGNITUDE = 4;
  private static final int SUB_HALF = 1 << SUB_HALF_MAGNITUDE;
  private static final long SUB_MASK = ((long) (2 * SUB_HALF) - 1) << UNIT_MAGNITUDE;
  private static final int LEADING_ZERO_BASE = 64 - UNIT_MAGNITUDE - SUB_HALF_MAGNITUDE - 1;

  /** How many buckets a row has: up to {@link ThreadState#HIGHEST_NANOS}. */
  static final int BUCKETS = index(ThreadState.HIGHEST_NANOS) + 1;

  /** Owned stripes: twice the processors, rounded up to a power of two, at most 64. */
  static final int OWNED =
      Integer.highestOneBit(Math.min(64, 2 * Runtime.getRuntime().availableProcessors()) - 1) << 1;

  /** Shared stripes, after the owned ones: half as many. */
  static final int SHARED = OWNED / 2;

  /** Every stripe: a recorder never holds more rows than this. */
  static final int STRIPES = OWNED + SHARED;

  private final long[][] rows = new long[STRIPES][];

  /** The bucket of a latency, clamped to the recorder's range. */
  static int index(long nanos) {
    long v = Math.min(Math.max(nanos, 0), ThreadState.HIGHEST_NANOS);
    int bucket = LEADING_ZERO_BASE - Long.numberOfLeadingZeros(v | SUB_MASK);
    int sub = (int) (v >>> (bucket + UNIT_MAGNITUDE));
    return ((bucket + 1) << SUB_HALF_MAGNITUDE) + (sub - SUB_HALF);
  }

  /** The lowest latency that falls in bucket {@code index}. */
  static long valueAt(int index) {
    int bucket = (index >> SUB_HALF_MAGNITUDE) - 1;
    int sub = (index & (SUB_HALF - 1)) + SUB_HALF;
    if (bucket < 0) {
      sub -= SUB_HALF;
      bucket = 0;
    }
    return ((long) sub) << (bucket + UNIT_MAGNITUDE);
  }

  /**
   * On an application thread: one completed call of {@code nanos} into {@code stripe}, which the
   * calling thread owns (plain add) or shares (atomic add); see {@link Stripes#claim}.
   */
  void record(int stripe, long nanos) {
    long[] row = rows[stripe];
    if (row == null) {
      row = newRow(stripe);
    }
    int i = index(nanos);
    if (stripe < OWNED) {
      LONGS.setOpaque(row, i, row[i] + 1); // its only writer now (see the class doc)
    } else {
      LONGS.getAndAdd(row, i, 1L);
    }
  }

  private long[] newRow(int stripe) {
    long[] fresh = new long[BUCKETS];
    long[] won = (long[]) ROWS.compareAndExchange(rows, stripe, (long[]) null, fresh);
    return won == null ? fresh : won;
  }

  /** True once a call was recorded. */
  boolean used() {
    for (int s = 0; s < STRIPES; s++) {
      if (ROWS.getAcquire(rows, s) != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds every bucket's count (over all stripes) into {@code into}, which has {@link #BUCKETS}
   * elements. False when no call was ever recorded.
   */
  boolean sumInto(long[] into) {
    boolean any = false;
    for (int s = 0; s < STRIPES; s++) {
      long[] row = (long[]) ROWS.getAcquire(rows, s);
      if (row == null) {
        continue;
      }
      any = true;
      for (int i = 0; i < BUCKETS; i++) {
        into[i] += (long) LONGS.getOpaque(row, i);
      }
    }
    return any;
  }

  /** An HdrHistogram of the same layout holding {@code counts}. */
  static Histogram toHistogram(long[] counts, Histogram into) {
    into.reset();
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        into.recordValueWithCount(valueAt(i), counts[i]);
      }
    }
    return into;
  }

  /**
   * Which owned stripes are taken: one table per engine, shared by all its recorders (a thread
   * state owns the same stripe in every recorder). Taken and released off the per-call path: a
   * thread state claims on its first timed call, the evaluator releases a dead platform thread's.
   */
  static final class Stripes {
    private final AtomicIntegerArray taken = new AtomicIntegerArray(OWNED);

    /**
     * On the calling thread, once per thread state: the first free owned stripe (looked for from a
     * place that depends on the state, so threads spread over the shared ones too), or, when every
     * owned stripe is taken, a shared one. Stored in {@code ts.stripe}, which only the owner
     * writes; returned.
     */
    int claim(ThreadState ts) {
      int hint = System.identityHashCode(ts);
      int start = hint & (OWNED - 1);
      int stripe = OWNED + (hint & (SHARED - 1));
      for (int i = 0; i < OWNED; i++) {
        int s = (start + i) & (OWNED - 1);
        if (taken.get(s) == 0 && taken.compareAndSet(s, 0, 1)) {
          stripe = s;
          break;
        }
      }
      ts.stripe = stripe;
      return stripe;
    }

    /**
     * On the evaluator: the stripe of a thread state that will never write again (its thread was
     * seen dead) is free for the next thread. The volatile store orders everything the dead thread
     * wrote (seen by the caller through {@code isAlive}) before the next owner's claim.
     */
    void release(int stripe) {
      if (stripe >= 0 && stripe < OWNED) {
        taken.set(stripe, 0);
      }
    }

    /** How many owned stripes are taken now. */
    int taken() {
      int n = 0;
      for (int s = 0; s < OWNED; s++) {
        n += taken.get(s);
      }
      return n;
    }
  }
}
