package dev.firebreak.detect;

import org.HdrHistogram.Histogram;

/**
 * Completed-call latencies of one target over a sliding window, as a ring of one-second
 * histograms. Only the evaluator thread touches it.
 */
public final class LatencyWindow {
  private static final long SLOT_NANOS = 1_000_000_000L;

  private final Histogram[] slots;
  private final long[] slotSecond;
  private final Histogram merged;

  public LatencyWindow(int seconds, long lowest, long highest, int digits) {
    int n = Math.max(1, seconds) + 1;
    slots = new Histogram[n];
    slotSecond = new long[n];
    for (int i = 0; i < n; i++) {
      slots[i] = new Histogram(lowest, highest, digits);
      slotSecond[i] = Long.MIN_VALUE;
    }
    merged = new Histogram(lowest, highest, digits);
  }

  public int seconds() {
    return slots.length - 1;
  }

  public void add(long now, Histogram interval) {
    long second = Math.floorDiv(now, SLOT_NANOS);
    int i = (int) Math.floorMod(second, (long) slots.length);
    if (slotSecond[i] != second) {
      slots[i].reset();
      slotSecond[i] = second;
    }
    slots[i].add(interval);
  }

  /** The completed calls of the last {@code windowSeconds} seconds, merged (reused, do not keep). */
  public Histogram window(long now, int windowSeconds) {
    long second = Math.floorDiv(now, SLOT_NANOS);
    merged.reset();
    for (int i = 0; i < slots.length; i++) {
      long s = slotSecond[i];
      if (s != Long.MIN_VALUE && s > second - windowSeconds && s <= second) {
        merged.add(slots[i]);
      }
    }
    return merged;
  }
}
