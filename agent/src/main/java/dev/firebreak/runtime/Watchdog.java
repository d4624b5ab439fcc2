package dev.firebreak.runtime;

import dev.firebreak.rules.Rule;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The evaluator's {@code duration} part: watches the outermost call of each target in flight on
 * every thread and fires a rule once per call that runs longer than its limit (a loop that never
 * recurses). A call is known by its start time, so the next call on the thread is news again.
 */
final class Watchdog {
  private final Engine engine;

  /** Per thread, by counter id: the start time of the call a rule last fired for. */
  private final Map<ThreadState, long[]> fired = new IdentityHashMap<>();

  Watchdog(Engine engine) {
    this.engine = engine;
  }

  void watch(Plan plan, long now) {
    for (TargetPlan t : plan.targets) {
      if (t.stuckRules.length == 0) {
        continue;
      }
      for (ThreadState ts : engine.threads) {
        if (ts.depth(t.ownCounter) > 0) {
          watch(plan, t, ts, now);
        }
      }
    }
  }

  private void watch(Plan plan, TargetPlan t, ThreadState ts, long now) {
    long start = ts.outerStart(t.ownCounter);
    long[] f = fired.computeIfAbsent(ts, k -> new long[t.counterSlots]);
    if (t.ownCounter >= f.length) {
      f = Arrays.copyOf(f, t.counterSlots);
      fired.put(ts, f);
    }
    if (f[t.ownCounter] == start) {
      return;
    }
    for (RulePlan r : t.stuckRules) {
      long limit = ((Rule.Stuck) r.rule.condition()).limit().toNanos();
      if (now - start > limit) {
        Thread thread = ts.currentThread();
        int methodId = ts.outerMethod(t.ownCounter);
        MethodPlan mp =
            methodId >= 0 && methodId < plan.methods.length ? plan.methods[methodId] : null;
        if (thread == null || mp == null) {
          continue;
        }
        f[t.ownCounter] = start;
        engine.fireFrom(
            r, mp, (now - start) / 1e6, limit / 1e6, thread.getName(), now, thread.getStackTrace());
        return;
      }
    }
  }

  /** A thread's state was released: so is what the watchdog kept for it. */
  void forget(ThreadState ts) {
    fired.remove(ts);
  }
}
