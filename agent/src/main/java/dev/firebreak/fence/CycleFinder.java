package dev.firebreak.fence;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Finds the repeating cycle at the top of a stack: the shortest run of frames that repeats, back to
 * back, over enough of the stack to be a runaway rather than a deep call. A pure function of the
 * frames; the auto-fence calls it on its own thread.
 */
public final class CycleFinder {

  /** The longest cycle looked for, in frames. */
  static final int MAX_PERIOD = 64;

  /** How many frames at the top may precede the cycle (the runaway's current leaf calls). */
  static final int MAX_SKIP = 64;

  /** The fewest back-to-back repetitions that count as a cycle. */
  static final int MIN_REPEATS = 4;

  private CycleFinder() {}

  /**
   * A cycle found.
   *
   * @param start index of the cycle's first (innermost) frame on the stack
   * @param period frames in one round of the cycle
   * @param span frames of the stack the repetition covers, from {@code start}
   */
  public record Cycle(int start, int period, int span, StackTraceElement[] round) {
    /** The frames of one round, innermost first. */
    @Override
    public StackTraceElement[] round() {
      return round.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Cycle c
          && c.start == start
          && c.period == period
          && c.span == span
          && Arrays.equals(c.round, round);
    }

    @Override
    public int hashCode() {
      return (start * 31 + period) * 31 + span;
    }

    @Override
    public String toString() {
      return "Cycle[start=" + start + ", period=" + period + ", span=" + span + "]";
    }
  }

  /**
   * The shortest cycle (then the one nearest the top) whose repetition covers at least {@code
   * minSpan} frames and {@link #MIN_REPEATS} rounds, or null. Frames are the same when their class,
   * method and line are.
   *
   * @param frames innermost first
   */
  public static Cycle find(StackTraceElement[] frames, int minSpan) {
    int n = frames.length;
    int[] ids = ids(frames);
    for (int p = 1; p <= MAX_PERIOD && p * MIN_REPEATS <= n; p++) {
      int need = Math.max(minSpan, p * MIN_REPEATS);
      for (int s = 0; s <= MAX_SKIP && s + need <= n; s++) {
        int matched = 0;
        while (s + matched + p < n && ids[s + matched] == ids[s + matched + p]) {
          matched++;
        }
        int span = matched + p;
        if (span >= need) {
          return new Cycle(s, p, span, Arrays.copyOfRange(frames, s, s + p));
        }
        if (matched > 0) {
          s += matched - 1; // every start inside this run would end where it ended
        }
      }
    }
    return null;
  }

  private static int[] ids(StackTraceElement[] frames) {
    Map<String, Integer> seen = new HashMap<>();
    int[] ids = new int[frames.length];
    for (int i = 0; i < frames.length; i++) {
      StackTraceElement f = frames[i];
      String key = f.getClassName() + '#' + f.getMethodName() + ':' + f.getLineNumber();
      ids[i] = seen.computeIfAbsent(key, k -> seen.size());
    }
    return ids;
  }
}
