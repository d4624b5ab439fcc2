package dev.firebreak.runtime;

import dev.firebreak.runtime.Plan.MethodPlan;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;
import org.HdrHistogram.Histogram;

/**
 * The evaluator's first part: moves what every thread recorded since the last round into per-method
 * totals (for /metrics) and hands each method's interval to a consumer (the latency windows); folds
 * a dead thread's counts into the retired totals and releases its state in the same round, so
 * counts stay exact and never go down. Only one thread at a time (callers hold the {@link
 * Monitor}'s lock).
 */
final class Drainer {
  private final Engine engine;
  private final Map<Integer, Histogram> cumulative = new HashMap<>();

  /** Per thread and method: the copy of its histogram taken at the last drain. */
  private final Map<ThreadState, Histogram[]> snapshots = new IdentityHashMap<>();

  private final Histogram copy = ThreadState.newHistogram();
  private final Histogram interval = ThreadState.newHistogram();
  private long[] retiredCalls = new long[0];
  private long[] retiredSum = new long[0];

  Drainer(Engine engine) {
    this.engine = engine;
  }

  /**
   * One drain. {@code intervals} gets each method's new latencies (a histogram reused by the next
   * call: read it, do not keep it); {@code retired} each thread whose state was just released.
   */
  void drain(ObjIntConsumer<Histogram> intervals, Consumer<ThreadState> retired) {
    int n = engine.methods().size();
    for (Iterator<ThreadState> it = engine.threads.iterator(); it.hasNext(); ) {
      ThreadState ts = it.next();
      boolean alive = ts.alive(); // before the copy: a thread seen dead has written its last
      Histogram[] last = snapshots.computeIfAbsent(ts, k -> new Histogram[n]);
      if (last.length < n) {
        last = Arrays.copyOf(last, n);
        snapshots.put(ts, last);
      }
      for (int id = 0; id < n; id++) {
        Histogram live = ts.histogram(id);
        if (live == null || !intervalOf(live, last, id)) {
          continue;
        }
        cumulative.computeIfAbsent(id, k -> ThreadState.newHistogram()).add(interval);
        intervals.accept(interval, id);
      }
      if (!alive) {
        ensureRetired(n);
        for (int id = 0; id < n; id++) {
          retiredCalls[id] += ts.calls(id);
          retiredSum[id] += ts.sumNanos(id);
        }
        it.remove();
        snapshots.remove(ts);
        retired.accept(ts);
      }
    }
  }

  /**
   * Puts what {@code live} recorded since the last drain into {@link #interval}. The owner thread
   * keeps writing while we copy; counts only grow, so the copy is a valid later state. Should a
   * copy ever be torn (a count read before the total it belongs to), the subtraction fails: the
   * round then takes nothing and keeps the last snapshot, so those calls are counted next round,
   * never lost.
   */
  private boolean intervalOf(Histogram live, Histogram[] last, int id) {
    copy.reset();
    copy.add(live);
    Histogram prev = last[id];
    interval.reset();
    interval.add(copy);
    if (prev == null) {
      last[id] = copy.copy();
      return interval.getTotalCount() > 0;
    }
    try {
      interval.subtract(prev);
    } catch (RuntimeException e) {
      interval.reset();
      return false;
    }
    prev.reset();
    prev.add(copy);
    return interval.getTotalCount() > 0;
  }

  private void ensureRetired(int n) {
    if (retiredCalls.length < n) {
      retiredCalls = Arrays.copyOf(retiredCalls, n);
      retiredSum = Arrays.copyOf(retiredSum, n);
    }
  }

  long calls(int id) {
    long total = id < retiredCalls.length ? retiredCalls[id] : 0;
    for (ThreadState ts : engine.threads) {
      total += ts.calls(id);
    }
    return total;
  }

  long sumNanos(int id) {
    long total = id < retiredSum.length ? retiredSum[id] : 0;
    for (ThreadState ts : engine.threads) {
      total += ts.sumNanos(id);
    }
    return total;
  }

  Histogram cumulative(int id) {
    Histogram h = cumulative.get(id);
    return h == null ? null : h.copy();
  }

  /** Releases the latency totals of methods no rule in force tracks any more. */
  void retainMethods(MethodPlan[] tracked) {
    cumulative.keySet().removeIf(id -> id >= tracked.length || tracked[id] == null);
  }
}
