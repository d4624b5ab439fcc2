package dev.firebreak.runtime;

import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code GET /targets} shows for one target ({@code automatic}: put up by the auto-fence).
 * Unlike the {@code firebreak_call_depth_max} gauge, reading it resets nothing.
 */
public record TargetSummary(
    String name,
    String killSwitch,
    String openedBy,
    long calls,
    int inflight,
    int depthMax,
    long shortLimit,
    long shortOpen,
    long shortForced,
    boolean automatic) {

  public static List<TargetSummary> of(Engine engine, Monitor monitor) {
    Plan plan = engine.plan();
    List<TargetSummary> out = new ArrayList<>();
    long[] byMethod = monitor.calls();
    for (TargetPlan t : plan.targets) {
      long calls = 0;
      for (MethodPlan mp : plan.methods) {
        if (mp != null && mp.target == t && mp.info.id() < byMethod.length) {
          calls += byMethod[mp.info.id()];
        }
      }
      int depthMax = 0;
      for (ThreadState ts : engine.threads) {
        depthMax = Math.max(depthMax, ts.peekMaxDepth(t.ownCounter));
      }
      out.add(
          new TargetSummary(
              t.name,
              t.killSwitch.state().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
              t.killSwitch.openedBy(),
              calls,
              monitor.inflight(t.ownCounter),
              depthMax,
              t.state.shortLimit.sum(),
              t.state.shortOpen.sum(),
              t.state.shortForced.sum(),
              t.target.automatic()));
    }
    return out;
  }
}
