package dev.firebreak.bootstrap;

/**
 * The auto-fence's net: one depth counter per thread, shared by every method under the net (the
 * {@code auto-fence} section's packages), with no clock, no plan lookup and no per-method state.
 * The woven code keeps the thread's cell in a local, counts itself in on entry and, on exit, puts
 * back the depth it found: so a lost exit (a StackOverflowError inside the advice) is repaired by
 * the next exit below it.
 *
 * <p>Only two rare events leave this class: a thread's depth reaching {@link #deep} (reported once
 * per crossing), and a {@link StackOverflowError} unwinding through a method under the net
 * (reported once per error). Both go to the installed {@link Dispatcher}, which reads the stack on
 * those paths only.
 *
 * <p>Lives in the boot loader with {@link Probe}: depends on nothing outside {@code java.base}.
 */
public final class Net {

  /** A thread at this depth under the net is reported; no net in force: never. */
  public static volatile int deep = Integer.MAX_VALUE;

  /** A thread's depth under the net, in a one-element array: no boxing on the way. */
  private static final ThreadLocal<int[]> DEPTH = new ThreadLocal<>();

  /** The overflow reported last: an error unwinding through many methods is reported once. */
  private static volatile Throwable lastOverflow;

  private Net() {}

  /** The calling thread's depth cell, made on its first call under the net. */
  public static int[] cell() {
    int[] c = DEPTH.get();
    if (c == null) {
      c = new int[1];
      DEPTH.set(c);
    }
    return c;
  }

  /**
   * Counts the calling thread in one level deeper under the net and returns the depth it found (the
   * woven method keeps it in a local for {@link #exit}); reports the crossing of {@link #deep}.
   */
  public static int enter(int[] cell) {
    int depth = cell[0];
    cell[0] = depth + 1;
    if (depth == deep) {
      deep();
    }
    return depth;
  }

  /**
   * Puts back the depth {@link #enter} found: a lost exit above is repaired here. {@code cell} is
   * null when the entry failed (then nothing was counted).
   */
  public static void exit(int[] cell, int depth) {
    if (cell != null) {
      cell[0] = depth;
    }
  }

  /** The calling thread just went {@link #deep} under the net. */
  public static void deep() {
    Probe.deep();
  }

  /**
   * A throwable unwinds through a method under the net: a stack overflow is reported once, by the
   * first exit that could report it whole.
   */
  public static void thrown(Throwable t) {
    // reported by the first exit with stack enough to report it: near the top of an overflowed
    // stack the report itself can overflow, and then the next exit down tries again
    if (t instanceof StackOverflowError && t != lastOverflow && Probe.overflow(t)) {
      lastOverflow = t;
    }
  }
}
