package dev.firebreak.runtime;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * The evaluator's first part: releases dead threads' state with their counts folded into the
 * retired totals (so counts stay exact and never go down), and hands each method's new latencies
 * (from its {@link LatencyRecorder}) to a consumer (the latency windows). What it keeps is per
 * method, never per thread. Only one thread at a time (callers hold the {@link Monitor}'s lock).
 */
final class Drainer {
  private final Engine engine;

  /** Per recorder: its bucket counts at the last drain. */
  private final Map<LatencyRecorder, long[]> last = new IdentityHashMap<>();

  private final long[] sum = new long[LatencyRecorder.BUCKETS];
  private final long[] delta = new long[LatencyRecorder.BUCKETS];
  private final Histogram interval = ThreadState.newHistogram();
  private long[] retiredCalls = new long[0];
  private long[] retiredSum = new long[0];

  private final Watchdog watchdog;

  Drainer(Engine engine, Watchdog watchdog) {
    this.engine = engine;
    this.watchdog = watchdog;
  }

  /**
   * One drain: {@code latency} gets each method's new latencies under {@code plan} (a histogram
   * reused by the next method: read it, do not keep it); the watchdog forgets each thread whose
   * state was just released.
   */
  void drain(LatencyRules latency, Plan plan, long now) {
    reap();
    LatencyRecorder[] rs = engine.recorders();
    for (int id = 0; id < rs.length; id++) {
      LatencyRecorder r = rs[id];
      Arrays.fill(sum, 0);
      if (!r.sumInto(sum)) {
        continue;
      }
      long[] prev = last.get(r);
      if (prev == null) {
        prev = new long[LatencyRecorder.BUCKETS];
        last.put(r, prev);
      }
      boolean any = false;
      for (int i = 0; i < sum.length; i++) {
        // each bucket only grows: a difference of two reads of it is never negative
        delta[i] = sum[i] - prev[i];
        prev[i] = sum[i];
        any |= delta[i] != 0;
      }
      if (any) {
        latency.add(plan, now, id, LatencyRecorder.toHistogram(delta, interval));
      }
    }
    if (last.size() > rs.length) {
      Set<LatencyRecorder> live = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
      live.addAll(Arrays.asList(rs));
      last.keySet().retainAll(live);
    }
  }

  /** Releases the state of every dead thread, its counts folded into the retired totals. */
  void reap() {
    for (Iterator<ThreadState> it = engine.threads.iterator(); it.hasNext(); ) {
      ThreadState ts = it.next();
      if (ts.pooled || ts.held) {
        if (ts.reclaimFromDeadBorrower()) {
          engine.reclaimed(ts);
        }
        continue;
      }
      if (ts.alive()) {
        continue;
      }
      // isAlive() saw it terminated: everything it wrote happened before (JLS 17.4.4)
      int n = engine.methods().size();
      if (retiredCalls.length < n) {
        retiredCalls = Arrays.copyOf(retiredCalls, n);
        retiredSum = Arrays.copyOf(retiredSum, n);
      }
      ts.addCallsTo(retiredCalls);
      ts.addNanosTo(retiredSum);
      it.remove();
      engine.stripes.release(ts.stripe); // the next thread continues its recorder stripe
      engine.ownStateRetired();
      watchdog.forget(ts);
    }
  }

  /** Every method's calls (by id), the live threads' and the retired ones'. */
  long[] calls() {
    long[] total = Arrays.copyOf(retiredCalls, Math.max(retiredCalls.length, size()));
    for (ThreadState ts : engine.threads) {
      ts.addCallsTo(total);
    }
    return total;
  }

  /** Every method's summed call time in nanoseconds (by id). */
  long[] sumNanos() {
    long[] total = Arrays.copyOf(retiredSum, Math.max(retiredSum.length, size()));
    for (ThreadState ts : engine.threads) {
      ts.addNanosTo(total);
    }
    return total;
  }

  private int size() {
    return engine.methods().size();
  }

  /** The method's latencies since start (or since it was last timed), or null if none. */
  Histogram cumulative(int id) {
    LatencyRecorder[] rs = engine.recorders();
    if (id >= rs.length) {
      return null;
    }
    long[] counts = new long[LatencyRecorder.BUCKETS];
    if (!rs[id].sumInto(counts)) {
      return null;
    }
    return LatencyRecorder.toHistogram(counts, ThreadState.newHistogram());
  }
}
