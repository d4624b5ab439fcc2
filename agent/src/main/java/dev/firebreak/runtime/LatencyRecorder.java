package dev.firebreak.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.HdrHistogram.Histogram;

/**
 * One method's completed-call latencies, shared by every thread: a few stripes of bucket counts, a
 * thread always writing the same stripe ({@link ThreadState#stripe}), so its size depends on the
 * number of processors, never on how many threads there are or were. A thread adds one to one
 * bucket with one atomic add (threads that share a stripe stay exact); a stripe's row is allocated
 * on the first call that lands in it and published with a compare-and-set.
 *
 * <p>The buckets are exactly those of {@code new Histogram(LOWEST_NANOS, HIGHEST_NANOS, 1)} (same
 * index, same lowest equivalent value), so the evaluator turns counts into an HdrHistogram for the
 * latency windows and /metrics without losing anything. Counts only grow: the reader takes
 * intervals as differences, bucket by bucket, which can never be torn.
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

  /** Stripes: twice the processors, rounded up to a power of two, at most 64. */
  static final int STRIPES =
      Integer.highestOneBit(Math.min(64, 2 * Runtime.getRuntime().availableProcessors()) - 1) << 1;

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

  /** On an application thread: one completed call of {@code nanos} into the thread's stripe. */
  void record(int stripe, long nanos) {
    long[] row = rows[stripe & (STRIPES - 1)];
    if (row == null) {
      row = newRow(stripe & (STRIPES - 1));
    }
    LONGS.getAndAdd(row, index(nanos), 1L);
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
}
