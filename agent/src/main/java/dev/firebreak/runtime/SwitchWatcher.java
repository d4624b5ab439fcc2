package dev.firebreak.runtime;

import dev.firebreak.detect.KillSwitch;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.jfr.FlightEvents;
import dev.firebreak.rules.Rule;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The evaluator's kill-switch part, run first in every round: half-opens switches on time (the hot
 * path reads no clock for a rejected call), says why when a hung trial opens one again, and sends
 * the "resolved" event of the rule that tripped a switch once it has closed.
 */
final class SwitchWatcher {
  private final Engine engine;

  /** Per target: the trip rules' trigger count at the last round. */
  private final Map<String, Long> tripsSeen = new HashMap<>();

  SwitchWatcher(Engine engine) {
    this.engine = engine;
  }

  void poll(Plan plan, long now) {
    FlightEvents.poll(); // a recording started: load the JFR event classes here, off the app
    for (TargetPlan t : plan.targets) {
      if (t.killSwitch.poll(now) == KillSwitch.Poll.TRIAL_TIMED_OUT) {
        AgentErrors.log(
            "kill switch of target "
                + t.name
                + " opened again: a half-open trial call did not finish within open-for ("
                + t.killSwitch.openForNanos() / 1_000_000
                + " ms)");
      }
      resolveWhenClosed(t);
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    for (TargetPlan t : plan.targets) {
      names.add(t.name);
    }
    tripsSeen.keySet().retainAll(names);
  }

  /**
   * A switch that closed again resolves the alert of the rule that tripped it. A switch can open
   * and close again between two rounds (open-for shorter than a round): the trip rules' trigger
   * counts show that it tripped all the same.
   */
  private void resolveWhenClosed(TargetPlan t) {
    KillSwitch.State now = t.killSwitch.state();
    Plan.TargetState st = t.state;
    long trips = 0;
    for (RulePlan r : t.allRules) {
      if (r.trips) {
        trips += r.state.triggers.sum();
      }
    }
    // a target seen for the first time starts from no trips: its counts began with its plan
    Long before = tripsSeen.put(t.name, trips);
    boolean trippedSinceLastRound = trips > (before == null ? 0 : before);
    if (now == KillSwitch.State.CLOSED
        && (st.seen != KillSwitch.State.CLOSED || trippedSinceLastRound)) {
      RulePlan r = st.lastTripRule;
      MethodPlan mp = st.lastTripMethod;
      if (r != null && mp != null) {
        engine
            .alerts()
            .offer(
                engine.event(r, mp, 0, thresholdOf(r), "", new StackTraceElement[0], null, true));
        // the next trip is news again, however soon it comes
        for (RulePlan tr : t.allRules) {
          if (tr.trips) {
            tr.state.lastNotified.set(Long.MIN_VALUE);
          }
        }
      }
    }
    recordMoves(t, st.seen, now, trippedSinceLastRound);
    st.seen = now;
  }

  /**
   * The JFR side: each change of state the evaluator sees. A switch that tripped and closed again
   * between two rounds shows as its opening and its closing.
   */
  private static void recordMoves(
      TargetPlan t, KillSwitch.State before, KillSwitch.State now, boolean tripped) {
    String rule = t.state.lastTripRule == null ? "" : t.state.lastTripRule.name;
    String from = label(before);
    if (tripped && before != KillSwitch.State.OPEN && now != KillSwitch.State.OPEN) {
      // it opened between two rounds and has moved on since: show the opening too
      FlightEvents.killSwitch(t.name, from, "open", rule);
      from = "open";
    }
    String to = label(now);
    if (!from.equals(to)) {
      FlightEvents.killSwitch(t.name, from, to, now == KillSwitch.State.OPEN ? rule : "");
    }
  }

  private static String label(KillSwitch.State s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
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
}
