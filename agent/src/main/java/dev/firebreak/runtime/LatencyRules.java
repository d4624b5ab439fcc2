package dev.firebreak.runtime;

import dev.firebreak.detect.LatencyWindow;
import dev.firebreak.rules.Rule;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.RuleState;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.HashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The evaluator's latency part: a bounded sliding window per method of a target with latency rules,
 * and each rule judged per target, as Alertmanager keys its alerts (rule + target): it fires while
 * any method of the target is above the threshold, naming the worst one, and resolves once none is,
 * so one method recovering never resolves what another still breaks.
 */
final class LatencyRules {
  private final Engine engine;
  private final Map<Integer, LatencyWindow> windows = new HashMap<>();

  /**
   * The rules (per rule and target) firing now, with the method named last, to resolve each once.
   */
  private final Map<RuleState, MethodPlan> firing = new HashMap<>();

  LatencyRules(Engine engine) {
    this.engine = engine;
  }

  /** The drainer's interval of method {@code id}: into its window, if a latency rule needs it. */
  void add(Plan plan, long now, int id, Histogram interval) {
    MethodPlan mp = id < plan.methods.length ? plan.methods[id] : null;
    if (mp != null && mp.target.latencyRules.length > 0) {
      window(id, mp.target).add(now, interval);
    }
  }

  private LatencyWindow window(int id, TargetPlan t) {
    long seconds = 1;
    for (RulePlan r : t.latencyRules) {
      seconds = Math.max(seconds, ((Rule.Latency) r.rule.condition()).window().toSeconds());
    }
    LatencyWindow w = windows.get(id);
    if (w == null || w.seconds() < seconds) {
      w =
          new LatencyWindow(
              seconds, ThreadState.LOWEST_NANOS, ThreadState.HIGHEST_NANOS, ThreadState.DIGITS);
      windows.put(id, w);
    }
    return w;
  }

  void evaluate(Plan plan, long now) {
    for (TargetPlan t : plan.targets) {
      for (RulePlan r : t.latencyRules) {
        evaluate(plan, t, r, now);
      }
    }
  }

  private void evaluate(Plan plan, TargetPlan t, RulePlan r, long now) {
    Rule.Latency l = (Rule.Latency) r.rule.condition();
    double thresholdMs = l.above().toNanos() / 1e6;
    MethodPlan worst = null;
    double worstMs = 0;
    for (MethodPlan mp : plan.methods) {
      if (mp == null || mp.target != t) {
        continue;
      }
      LatencyWindow w = windows.get(mp.info.id());
      if (w == null) {
        continue;
      }
      Histogram h = w.window(now);
      if (h.getTotalCount() == 0) {
        continue;
      }
      double ms = h.getValueAtPercentile(l.percentile()) / 1e6;
      if (worst == null || ms > worstMs) {
        worst = mp;
        worstMs = ms;
      }
    }
    if (worst != null && worstMs > thresholdMs) {
      firing.put(r.state, worst);
      engine.fireFrom(r, worst, round(worstMs), thresholdMs, "", now, new StackTraceElement[0]);
      return;
    }
    MethodPlan named = firing.isEmpty() ? null : firing.remove(r.state);
    if (named != null) {
      MethodPlan m = worst != null ? worst : named;
      engine
          .alerts()
          .offer(
              engine.event(
                  r, m, round(worstMs), thresholdMs, "", new StackTraceElement[0], null, true));
      // once resolved, going above again must notify at once, not after the repeat-interval
      r.state.lastNotified.set(Long.MIN_VALUE);
    }
  }

  /** Releases the windows of methods no latency rule in force watches, and gone rules' state. */
  void retain(Plan plan) {
    MethodPlan[] tracked = plan.methods;
    java.util.Set<RuleState> live =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (TargetPlan t : plan.targets) {
      for (RulePlan r : t.latencyRules) {
        live.add(r.state);
      }
    }
    firing.keySet().retainAll(live);
    for (java.util.Iterator<Integer> it = windows.keySet().iterator(); it.hasNext(); ) {
      int id = it.next();
      if (id >= tracked.length
          || tracked[id] == null
          || tracked[id].target.latencyRules.length == 0) {
        it.remove();
      }
    }
  }

  int windowCount() {
    return windows.size();
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
