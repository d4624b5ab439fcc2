package dev.firebreak.alert;

import java.util.ArrayList;
import java.util.List;

/**
 * Folds a stack so a runaway recursion reads at a glance: a frame repeated N times in a row becomes
 * one line ending in {@code xN}; a cycle of several frames repeated in a row (A→B→A→B) becomes
 * {@code A -> B xN}. Frames of the agent itself are dropped from the top.
 */
public final class StackFolder {
  public static final int MAX_LINES = 20;
  private static final int MAX_CYCLE = 8;

  private StackFolder() {}

  public static List<String> fold(StackTraceElement[] stack, int maxLines) {
    List<String> frames = new ArrayList<>(stack.length);
    boolean top = true;
    for (StackTraceElement e : stack) {
      if (top && isAgentFrame(e)) {
        continue;
      }
      top = false;
      frames.add(frame(e));
    }
    return foldFrames(frames, maxLines);
  }

  /**
   * {@code com.acme.Foo.bar(Foo.java:41)}: what {@link StackTraceElement#toString} prints, without
   * the class loader and module prefix ({@code app//}, {@code java.base/}) that it adds for some
   * stacks (those taken of another thread by the watchdog) and not for others, so the same frame
   * always reads, and folds, the same.
   */
  static String frame(StackTraceElement e) {
    StringBuilder b =
        new StringBuilder(96)
            .append(e.getClassName())
            .append('.')
            .append(e.getMethodName())
            .append('(');
    if (e.isNativeMethod()) {
      b.append("Native Method");
    } else if (e.getFileName() == null) {
      b.append("Unknown Source");
    } else {
      b.append(e.getFileName());
      if (e.getLineNumber() >= 0) {
        b.append(':').append(e.getLineNumber());
      }
    }
    return b.append(')').toString();
  }

  static boolean isAgentFrame(StackTraceElement e) {
    String c = e.getClassName();
    return c.startsWith("dev.firebreak.")
        || c.startsWith("java.lang.Thread")
        || c.startsWith("java.lang.Throwable");
  }

  /** Greedy: at each position take the cycle length that covers the most frames. */
  public static List<String> foldFrames(List<String> frames, int maxLines) {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = frames.size();
    while (i < n && out.size() < maxLines) {
      int bestLen = 1;
      int bestReps = 1;
      for (int len = 1; len <= MAX_CYCLE && i + 2 * len <= n; len++) {
        int reps = 1;
        while (i + (reps + 1) * len <= n && sameBlock(frames, i, i + reps * len, len)) {
          reps++;
        }
        if (reps > 1 && reps * len > bestReps * bestLen) {
          bestLen = len;
          bestReps = reps;
        }
      }
      if (bestReps > 1) {
        out.add(String.join(" -> ", frames.subList(i, i + bestLen)) + " x" + bestReps);
        i += bestLen * bestReps;
      } else {
        out.add(frames.get(i));
        i++;
      }
    }
    if (i < n && !out.isEmpty()) {
      out.set(out.size() - 1, "… " + (n - i + 1) + " more frames");
    }
    return out;
  }

  private static boolean sameBlock(List<String> frames, int a, int b, int len) {
    for (int k = 0; k < len; k++) {
      if (!frames.get(a + k).equals(frames.get(b + k))) {
        return false;
      }
    }
    return true;
  }
}
