package dev.firebreak.runtime;

import dev.firebreak.detect.LatencyWindow;
import dev.firebreak.rules.Rule;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The reader side, on the agent's own thread: drains the per-thread recorders into per-method
 * totals, evaluates latency rules over their sliding windows, watches calls in flight for
 * {@code duration} rules, and lets a kill switch half-open on time. Also what /metrics reads.
 */
public final class Monitor {
  private final Engine engine;
  private final Map<Integer, Histogram> cumulative = new HashMap<>();
  private final Map<Integer, LatencyWindow> windows = new HashMap<>();
  /** Per thread and method: the copy of its histogram taken at the last drain. */
  private final Map<ThreadState, Histogram[]> snapshots = new IdentityHashMap<>();
  private final Histogram copy = ThreadState.newHistogram();
  private final Histogram interval = ThreadState.newHistogram();
  private final Map<ThreadState, long[]> stuckFired = new IdentityHashMap<>();
  /** "rule|methodId" of latency rules above their threshold, to send one resolved event. */
  private final java.util.Set<String> firing = new java.util.HashSet<>();
  /** Per target: the trip rules' trigger count at the last round. */
  private final Map<String, Long> tripsSeen = new HashMap<>();
  private long[] retiredCalls = new long[0];
  private long[] retiredSum = new long[0];
  private Thread thread;
  private volatile boolean running;
  private volatile Runnable afterTick = () -> {};

  public Monitor(Engine engine) {
    this.engine = engine;
  }

  public synchronized void start() {
    if (thread != null) {
      return;
    }
    running = true;
    thread = new Thread(this::loop, "firebreak-evaluator");
    thread.setDaemon(true);
    thread.start();
  }

  /** Runs on the evaluator thread after every round (the agent publishes its timing there). */
  public void afterTick(Runnable r) {
    afterTick = r;
  }

  public void stop() {
    running = false;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  private void loop() {
    while (running) {
      try {
        tick(System.nanoTime());
        afterTick.run();
      } catch (Throwable t) {
        AgentErrors.report("evaluator", "evaluator failed: " + AgentErrors.describe(t));
      }
      try {
        Thread.sleep(periodMillis());
      } catch (InterruptedException e) {
        if (!running) {
          return;
        }
      }
    }
  }

  /** At least once a second; faster when a duration rule needs it (duration/4). */
  long periodMillis() {
    long period = 1000;
    for (TargetPlan t : engine.plan().targets) {
      if (t.killSwitch.state() != dev.firebreak.detect.KillSwitch.State.CLOSED) {
        // the hot path never reads the clock for an open switch: this thread half-opens it on time
        period = Math.min(period, Math.max(10, t.killSwitch.openForNanos() / 4_000_000));
      }
    }
    for (TargetPlan t : engine.plan().targets) {
      for (RulePlan r : t.stuckRules) {
        long quarter = ((Rule.Stuck) r.rule.condition()).limit().toMillis() / 4;
        period = Math.min(period, Math.max(10, quarter));
      }
    }
    return period;
  }

  /** One evaluation round. */
  public synchronized void tick(long now) {
    drain(now);
    Plan plan = engine.plan();
    for (TargetPlan t : plan.targets) {
      t.killSwitch.poll(now);
      resolveWhenClosed(t);
    }
    evaluateLatency(plan, now);
    watchStuck(plan, now);
  }

  /** Moves every thread's recorded latencies into the per-method totals and windows. */
  public synchronized void drain(long now) {
    Plan plan = engine.plan();
    int n = engine.methods().size();
    List<ThreadState> dead = null; // allocated only when a thread has died
    for (ThreadState ts : engine.threads) {
      boolean alive = ts.alive();
      Histogram[] last = snapshots.computeIfAbsent(ts, k -> new Histogram[n]);
      if (last.length < n) {
        last = java.util.Arrays.copyOf(last, n);
        snapshots.put(ts, last);
      }
      for (int id = 0; id < n; id++) {
        Histogram live = ts.histogram(id);
        if (live == null || !intervalOf(live, last, id)) {
          continue;
        }
        cumulative.computeIfAbsent(id, k -> ThreadState.newHistogram()).add(interval);
        MethodPlan mp = id < plan.methods.length ? plan.methods[id] : null;
        if (mp != null && mp.target.latencyRules.length > 0) {
          window(id, mp.target).add(now, interval);
        }
      }
      if (!alive) {
        if (dead == null) {
          dead = new ArrayList<>();
        }
        dead.add(ts);
      }
    }
    if (dead == null) {
      return;
    }
    for (ThreadState ts : dead) {
      ensureRetired(n);
      for (int id = 0; id < n; id++) {
        retiredCalls[id] += ts.calls(id);
        retiredSum[id] += ts.sumNanos(id);
      }
      engine.threads.remove(ts);
      snapshots.remove(ts);
      stuckFired.remove(ts);
    }
  }

  /**
   * Puts what {@code live} recorded since the last drain into {@link #interval}. The owner thread
   * keeps writing while we copy; counts only grow, so the copy is a valid later state and the
   * difference is never negative (if a race ever says otherwise, this round is skipped).
   */
  private boolean intervalOf(Histogram live, Histogram[] last, int id) {
    copy.reset();
    copy.add(live);
    Histogram prev = last[id];
    interval.reset();
    interval.add(copy);
    if (prev == null) {
      last[id] = copy.copy();
    } else {
      try {
        interval.subtract(prev);
      } catch (RuntimeException e) {
        interval.reset();
      }
      prev.reset();
      prev.add(copy);
    }
    return interval.getTotalCount() > 0;
  }

  private void ensureRetired(int n) {
    if (retiredCalls.length < n) {
      retiredCalls = java.util.Arrays.copyOf(retiredCalls, n);
      retiredSum = java.util.Arrays.copyOf(retiredSum, n);
    }
  }

  private LatencyWindow window(int id, TargetPlan t) {
    int seconds = 1;
    for (RulePlan r : t.latencyRules) {
      Rule.Latency l = (Rule.Latency) r.rule.condition();
      seconds = (int) Math.max(seconds, Math.min(3600, Math.max(1, l.window().toSeconds())));
    }
    LatencyWindow w = windows.get(id);
    if (w == null || w.seconds() != seconds) {
      w = new LatencyWindow(seconds, ThreadState.LOWEST_NANOS, ThreadState.HIGHEST_NANOS, ThreadState.DIGITS);
      windows.put(id, w);
    }
    return w;
  }

  /**
   * A switch that closed again resolves the alert of the rule that tripped it. A switch can open
   * and close again between two rounds (open-for shorter than a round): the trip rules' trigger
   * counts show that it tripped all the same.
   */
  private void resolveWhenClosed(TargetPlan t) {
    dev.firebreak.detect.KillSwitch.State now = t.killSwitch.state();
    Plan.TargetState st = t.state;
    long trips = 0;
    for (RulePlan r : t.allRules) {
      if (r.trips) {
        trips += r.state.triggers.sum();
      }
    }
    Long before = tripsSeen.put(t.name, trips);
    boolean trippedSinceLastRound = before != null && trips > before;
    if (now == dev.firebreak.detect.KillSwitch.State.CLOSED
        && (st.seen != dev.firebreak.detect.KillSwitch.State.CLOSED || trippedSinceLastRound)) {
      RulePlan r = st.lastTripRule;
      MethodPlan mp = st.lastTripMethod;
      if (r != null && mp != null) {
        engine.alerts().offer(engine.event(r, mp, 0, thresholdOf(r), "", new StackTraceElement[0], null, true));
        // the next trip is news again, however soon it comes
        for (RulePlan tr : t.allRules) {
          if (tr.trips) {
            tr.state.lastNotified.set(Long.MIN_VALUE);
          }
        }
      }
    }
    st.seen = now;
  }

  private static double thresholdOf(RulePlan r) {
    if (r.rule.condition() instanceof Rule.Depth d) {
      return d.limit();
    }
    if (r.rule.condition() instanceof Rule.CallsPerInvocation c) {
      return c.limit();
    }
    if (r.rule.condition() instanceof Rule.Stuck s) {
      return s.limit().toMillis();
    }
    if (r.rule.condition() instanceof Rule.Latency l) {
      return l.above().toNanos() / 1e6;
    }
    return 0;
  }

  private void evaluateLatency(Plan plan, long now) {
    for (MethodPlan mp : plan.methods) {
      if (mp == null || mp.target.latencyRules.length == 0) {
        continue;
      }
      LatencyWindow w = windows.get(mp.info.id());
      for (RulePlan r : mp.target.latencyRules) {
        Rule.Latency l = (Rule.Latency) r.rule.condition();
        Histogram h = w == null ? null : w.window(now, (int) Math.max(1, l.window().toSeconds()));
        double thresholdMs = l.above().toNanos() / 1e6;
        boolean above = false;
        double valueMs = 0;
        if (h != null && h.getTotalCount() > 0) {
          valueMs = h.getValueAtPercentile(l.percentile()) / 1e6;
          above = valueMs > thresholdMs;
        }
        if (!above && firing.isEmpty()) {
          continue; // the usual round: nothing to fire, nothing to resolve, no key to build
        }
        String key = r.name + "|" + mp.info.id();
        if (above) {
          firing.add(key);
          engine.fireFrom(r, mp, round(valueMs), thresholdMs, "", now, new StackTraceElement[0]);
        } else if (firing.remove(key)) {
          engine.alerts().offer(engine.event(r, mp, round(valueMs), thresholdMs, "", new StackTraceElement[0], null, true));
          // once resolved, going above again must notify at once, not after the repeat-interval
          r.state.lastNotified.set(Long.MIN_VALUE);
        }
      }
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private void watchStuck(Plan plan, long now) {
    for (TargetPlan t : plan.targets) {
      if (t.stuckRules.length == 0) {
        continue;
      }
      for (ThreadState ts : engine.threads) {
        if (ts.depth(t.ownCounter) <= 0) {
          continue;
        }
        long start = ts.outerStart(t.ownCounter);
        long[] fired = stuckFired.computeIfAbsent(ts, k -> new long[engine.counters().size() + 16]);
        if (t.ownCounter >= fired.length) {
          fired = java.util.Arrays.copyOf(fired, t.ownCounter + 16);
          stuckFired.put(ts, fired);
        }
        if (fired[t.ownCounter] == start) {
          continue;
        }
        for (RulePlan r : t.stuckRules) {
          long limit = ((Rule.Stuck) r.rule.condition()).limit().toNanos();
          if (now - start > limit) {
            Thread thread = ts.thread.get();
            int methodId = ts.outerMethod(t.ownCounter);
            MethodPlan mp = methodId >= 0 && methodId < plan.methods.length ? plan.methods[methodId] : null;
            if (thread == null || mp == null) {
              continue;
            }
            fired[t.ownCounter] = start;
            StackTraceElement[] stack = thread.getStackTrace();
            engine.fireFrom(r, mp, (now - start) / 1e6, limit / 1e6, thread.getName(), now, stack);
            break;
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- for /metrics

  public synchronized long calls(int id) {
    long total = id < retiredCalls.length ? retiredCalls[id] : 0;
    for (ThreadState ts : engine.threads) {
      total += ts.calls(id);
    }
    return total;
  }

  public synchronized double sumSeconds(int id) {
    long total = id < retiredSum.length ? retiredSum[id] : 0;
    for (ThreadState ts : engine.threads) {
      total += ts.sumNanos(id);
    }
    return total / 1e9;
  }

  /** A copy of the method's latencies since start, or null if none completed. */
  public synchronized Histogram cumulative(int id) {
    Histogram h = cumulative.get(id);
    return h == null ? null : h.copy();
  }

  /** The deepest depth entered since the last call, over all threads; resets. */
  public synchronized int takeDepthMax(int ownCounter) {
    int max = 0;
    for (ThreadState ts : engine.threads) {
      max = Math.max(max, ts.takeMaxDepth(ownCounter));
    }
    return max;
  }

  public synchronized int inflight(int ownCounter) {
    int n = 0;
    for (ThreadState ts : engine.threads) {
      n += ts.depth(ownCounter);
    }
    return n;
  }

  /** One target's gauges and short-circuit counts. */
  public record TargetMetrics(
      String name, int depthMax, int inflight, int killSwitchState, long shortLimit, long shortOpen, long shortForced) {}

  /** One rule's trigger count, with its labels as in force. */
  public record RuleMetrics(String rule, String target, String action, String mode, long triggers) {}

  public synchronized List<TargetMetrics> targets() {
    List<TargetMetrics> out = new ArrayList<>();
    for (TargetPlan t : engine.plan().targets) {
      out.add(
          new TargetMetrics(
              t.name,
              takeDepthMax(t.ownCounter),
              inflight(t.ownCounter),
              t.killSwitch.state().gauge,
              t.state.shortLimit.sum(),
              t.state.shortOpen.sum(),
              t.state.shortForced.sum()));
    }
    return out;
  }

  public List<RuleMetrics> rules() {
    List<RuleMetrics> out = new ArrayList<>();
    for (TargetPlan t : engine.plan().targets) {
      for (RulePlan r : t.allRules) {
        out.add(new RuleMetrics(r.name, t.name, r.actionLabel, r.modeLabel, r.state.triggers.sum()));
      }
    }
    return out;
  }

  /** Methods under the rules in force (tracked ones only). */
  public List<MethodInfo> trackedMethods() {
    List<MethodInfo> out = new ArrayList<>();
    for (MethodPlan mp : engine.plan().methods) {
      if (mp != null) {
        out.add(mp.info);
      }
    }
    return out;
  }
}
