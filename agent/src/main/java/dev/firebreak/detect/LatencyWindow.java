package dev.firebreak.detect;

import org.HdrHistogram.Histogram;

/**
 * Completed-call latencies of one method over a sliding window, as a ring of at most {@link
 * #MAX_SLOTS} + 1 sub-window histograms, so its memory does not depend on the window's length: a 30
 * s window keeps 1-second slots, a 1 h window 300-second slots. The window read is the current slot
 * so far and the {@code window} before it: at least the window, and at most one slot (1/12 of the
 * window) more. Only the evaluator thread touches it.
 */
public final class LatencyWindow {
  /** The most sub-windows a window is cut into. */
  public static final int MAX_SLOTS = 12;

  /** The longest window a rule may have (the rules reference states it). */
  public static final long MAX_WINDOW_SECONDS = 3600;

  private static final long SECOND = 1_000_000_000L;

  private final long slotNanos;
  private final int windowSlots;
  private final Histogram[] slots;
  private final long[] slotIndex;
  private final Histogram merged;

  public LatencyWindow(long windowSeconds, long lowest, long highest, int digits) {
    long w = Math.max(1, Math.min(MAX_WINDOW_SECONDS, windowSeconds));
    long slotSeconds = (w + MAX_SLOTS - 1) / MAX_SLOTS;
    this.slotNanos = slotSeconds * SECOND;
    this.windowSlots = (int) ((w + slotSeconds - 1) / slotSeconds);
    int n = windowSlots + 1; // the full slots of the window and the current one
    slots = new Histogram[n];
    slotIndex = new long[n];
    for (int i = 0; i < n; i++) {
      slots[i] = new Histogram(lowest, highest, digits);
      slotIndex[i] = Long.MIN_VALUE;
    }
    merged = new Histogram(lowest, highest, digits);
  }

  /** The window this covers, in seconds (whole slots). */
  public long seconds() {
    return windowSlots * (slotNanos / SECOND);
  }

  /** How many histograms it keeps (bounded by {@link #MAX_SLOTS} + 1 whatever the window). */
  public int slots() {
    return slots.length;
  }

  public void add(long now, Histogram interval) {
    long index = Math.floorDiv(now, slotNanos);
    int i = (int) Math.floorMod(index, (long) slots.length);
    if (slotIndex[i] != index) {
      slots[i].reset();
      slotIndex[i] = index;
    }
    slots[i].add(interval);
  }

  /** The completed calls of the window that ends now, merged (reused, do not keep). */
  public Histogram window(long now) {
    long index = Math.floorDiv(now, slotNanos);
    merged.reset();
    for (int i = 0; i < slots.length; i++) {
      long s = slotIndex[i];
      if (s != Long.MIN_VALUE && s >= index - windowSlots && s <= index) {
        merged.add(slots[i]);
      }
    }
    return merged;
  }
}
