package dev.firebreak.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import org.HdrHistogram.Histogram;

/**
 * Everything one application thread writes on the hot path. Only the owning thread writes, with
 * plain stores and no atomic read-modify-write; the agent's reader thread reads counts with
 * opaque reads and copies the histograms, whose counts only ever grow, so it takes intervals as
 * differences of two copies (a recorder's writer/reader phaser would cost two atomic operations
 * per call). No shared cache line is written by two threads, so per-call cost does not grow with
 * the number of threads.
 */
final class ThreadState {
  static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

  /** 1 significant digit: ~6% resolution, ~9 KB per thread and method; 64 ns to 1 h. */
  static final long LOWEST_NANOS = 64;

  static final long HIGHEST_NANOS = 3_600_000_000_000L;
  static final int DIGITS = 1;

  final WeakReference<Thread> thread;

  long[] calls;
  long[] sumNanos;
  Histogram[] histograms;
  /** By counter id: the live depth of each target and group on this thread. */
  int[] depth;
  /** By counter id: the deepest depth seen since the reader last took it. */
  int[] maxDepth;
  /** By counter id: the start time of the outermost call in flight (for the watchdog). */
  long[] outerStart;
  /** By counter id ("budget:" slots): calls counted inside the current invocation of `of`. */
  long[] budget;
  /** By counter id: the method id of the outermost call in flight. */
  int[] outerMethod;

  // what the last short-circuit on this thread was, for the message of a `throw` fallback
  String lastRule;
  String lastTarget;
  int lastDepth;
  boolean lastOpen;

  ThreadState(Thread thread, int methods, int counters) {
    this.thread = new WeakReference<>(thread);
    int m = Math.max(16, methods);
    int c = Math.max(16, counters);
    calls = new long[m];
    sumNanos = new long[m];
    histograms = new Histogram[m];
    depth = new int[c];
    maxDepth = new int[c];
    outerStart = new long[c];
    outerMethod = new int[c];
    budget = new long[c];
  }

  static Histogram newHistogram() {
    return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
  }

  /** Grows the arrays, if they must, to hold method {@code id} and counter {@code counter}. */
  void ensure(int id, int counter) {
    if (id >= calls.length || counter >= depth.length) {
      ensureMethod(id);
      ensureCounter(counter);
    }
  }

  private void ensureMethod(int id) {
    if (id >= calls.length) {
      int n = Math.max(id + 1, calls.length * 2);
      sumNanos = Arrays.copyOf(sumNanos, n);
      histograms = Arrays.copyOf(histograms, n);
      calls = Arrays.copyOf(calls, n);
    }
  }

  private void ensureCounter(int id) {
    if (id >= depth.length) {
      int n = Math.max(id + 1, depth.length * 2);
      maxDepth = Arrays.copyOf(maxDepth, n);
      outerStart = Arrays.copyOf(outerStart, n);
      outerMethod = Arrays.copyOf(outerMethod, n);
      budget = Arrays.copyOf(budget, n);
      depth = Arrays.copyOf(depth, n);
    }
  }

  void countCall(int id) {
    long[] c = calls;
    LONGS.setOpaque(c, id, c[id] + 1);
  }

  void record(int id, long nanos) {
    Histogram h = histograms[id];
    if (h == null) {
      h = newHistogram();
      histograms[id] = h;
    }
    h.recordValue(Math.min(Math.max(nanos, 0), HIGHEST_NANOS));
    long[] s = sumNanos;
    LONGS.setOpaque(s, id, s[id] + nanos);
  }

  // reader side

  long calls(int id) {
    long[] c = calls;
    return id < c.length ? (long) LONGS.getOpaque(c, id) : 0;
  }

  long sumNanos(int id) {
    long[] s = sumNanos;
    return id < s.length ? (long) LONGS.getOpaque(s, id) : 0;
  }

  Histogram histogram(int id) {
    Histogram[] h = histograms;
    return id < h.length ? h[id] : null;
  }

  int depth(int counter) {
    int[] d = depth;
    return counter < d.length ? (int) INTS.getOpaque(d, counter) : 0;
  }

  long outerStart(int counter) {
    long[] s = outerStart;
    return counter < s.length ? (long) LONGS.getOpaque(s, counter) : 0;
  }

  int outerMethod(int counter) {
    int[] m = outerMethod;
    return counter < m.length ? (int) INTS.getOpaque(m, counter) : -1;
  }

  int takeMaxDepth(int counter) {
    int[] m = maxDepth;
    if (counter >= m.length) {
      return 0;
    }
    return (int) INTS.getAndSet(m, counter, 0);
  }

  boolean alive() {
    Thread t = thread.get();
    return t != null && t.isAlive();
  }
}
