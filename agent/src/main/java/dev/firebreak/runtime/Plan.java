package dev.firebreak.runtime;

import dev.firebreak.detect.KillSwitch;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The rules in force, resolved to what the hot path needs: arrays indexed by method id, counter ids
 * instead of names. Immutable: a reload builds a new one and swaps it in. The rule and target
 * states it points to ({@link TargetState}, {@link RuleState}) are the mutable part that outlives a
 * reload while the target or rule stays.
 */
final class Plan {
  static final Plan EMPTY = new Plan(null, new MethodPlan[0], new TargetPlan[0]);

  final RuleSet rules;
  final MethodPlan[] methods;
  final TargetPlan[] targets;

  Plan(RuleSet rules, MethodPlan[] methods, TargetPlan[] targets) {
    this.rules = rules;
    this.methods = methods;
    this.targets = targets;
  }

  TargetPlan target(String name) {
    for (TargetPlan t : targets) {
      if (t.name.equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** One instrumented method under the current rules. */
  static final class MethodPlan {
    final MethodInfo info;
    final TargetPlan target;
    final boolean throwing;
    final int argumentIndex;
    final Object constant;

    MethodPlan(MethodInfo info, TargetPlan target) {
      this.info = info;
      this.target = target;
      Fallback f = target.target.fallback();
      this.throwing = f instanceof Fallback.Throw;
      this.argumentIndex = f instanceof Fallback.ReturnArg a ? a.index() : -1;
      Object c;
      try {
        c = Fallbacks.constant(f, info.returnType());
      } catch (IllegalArgumentException e) {
        c = Fallbacks.defaultValue(info.returnType());
      }
      this.constant = c;
    }
  }

  /** Per-target state that outlives a reload (counters, kill switch), kept by target name. */
  static final class TargetState {
    final KillSwitch killSwitch;
    final LongAdder shortLimit = new LongAdder();
    final LongAdder shortOpen = new LongAdder();
    final LongAdder shortForced = new LongAdder();

    /** The rule and method of the last trip, for the "resolved" event when the switch closes. */
    volatile RulePlan lastTripRule;

    volatile MethodPlan lastTripMethod;

    /** The switch state the evaluator saw last. */
    KillSwitch.State seen = KillSwitch.State.CLOSED;

    TargetState(KillSwitch killSwitch) {
      this.killSwitch = killSwitch;
    }
  }

  /** Per rule and target, outlives a reload. */
  static final class RuleState {
    final LongAdder triggers = new LongAdder();

    /** nanoTime of the last notification; MIN_VALUE: never. */
    final AtomicLong lastNotified = new AtomicLong(Long.MIN_VALUE);

    boolean mayNotify(long now, long intervalNanos) {
      long last = lastNotified.get();
      if (last != Long.MIN_VALUE && now - last < intervalNanos) {
        return false;
      }
      return lastNotified.compareAndSet(last, now);
    }
  }

  static final class RulePlan {
    /** Depth rules in the order the hot path checks them: the lowest limit first. */
    static final Comparator<RulePlan> BY_DEPTH_LIMIT =
        new Comparator<>() {
          @Override
          public int compare(RulePlan a, RulePlan b) {
            return Integer.compare(a.depthLimit, b.depthLimit);
          }
        };

    final Rule rule;
    final String name;
    final Action action;
    final Mode mode;
    final String modeLabel;
    final String actionLabel;

    /** enforce and limit/trip: the offending call is short-circuited. */
    final boolean shortCircuits;

    final boolean trips;
    final int depthLimit;

    /** calls-per-invocation: the limit, the counter slot, and the own counter of target `of`. */
    final long budgetLimit;

    final int budgetSlot;
    final int budgetOf;
    final RuleState state;

    RulePlan(Rule rule, Mode fileMode, RuleState state, int budgetSlot, int budgetOf) {
      this.rule = rule;
      this.name = rule.name();
      this.action = rule.action();
      this.mode = rule.effectiveMode(fileMode);
      this.modeLabel = mode.label();
      this.actionLabel = action.label();
      this.shortCircuits = mode == Mode.ENFORCE && action != Action.ALERT;
      this.trips = mode == Mode.ENFORCE && action == Action.TRIP;
      this.depthLimit = rule.condition() instanceof Rule.Depth d ? d.limit() : Integer.MAX_VALUE;
      this.budgetLimit =
          rule.condition() instanceof Rule.CallsPerInvocation c ? c.limit() : Long.MAX_VALUE;
      this.state = state;
      this.budgetSlot = budgetSlot;
      this.budgetOf = budgetOf;
    }
  }

  static final class TargetPlan {
    final Target target;
    final String name;
    final int ownCounter;
    final int counter;
    final boolean grouped;
    final boolean forcedOpen;
    final boolean captureArgument;

    /**
     * Reads the clock and records latencies: it has a latency or duration rule, or asks for the
     * histogram ({@code histogram: true}). A depth or budget guard does neither.
     */
    final boolean timed;

    final RulePlan[] depthRules;
    final RulePlan[] latencyRules;
    final RulePlan[] stuckRules;
    final RulePlan[] budgetRules;

    /** Every rule of the target, whatever its condition. */
    final RulePlan[] allRules;

    /** The lowest limit of the depth rules (they are sorted by it); MAX_VALUE without any. */
    final int lowestDepthLimit;

    /**
     * How many counter slots the whole plan uses: a thread's arrays are grown to hold them all
     * before a call of this target touches any, so no other target's slot can be out of range.
     */
    final int counterSlots;

    /** Budget slots to reset when an outermost call of this target starts (it is their `of`). */
    final int[] budgetResets;

    final TargetState state;
    final KillSwitch killSwitch;

    TargetPlan(
        Target target,
        int ownCounter,
        int counter,
        boolean forcedOpen,
        RulePlan[] depthRules,
        RulePlan[] latencyRules,
        RulePlan[] stuckRules,
        RulePlan[] budgetRules,
        int[] budgetResets,
        int counterSlots,
        TargetState state) {
      this.target = target;
      this.name = target.name();
      this.ownCounter = ownCounter;
      this.counter = counter;
      this.grouped = ownCounter != counter;
      this.forcedOpen = forcedOpen;
      this.captureArgument = target.captureArgument();
      this.timed = latencyRules.length > 0 || stuckRules.length > 0 || target.histogram();
      this.depthRules = depthRules;
      this.latencyRules = latencyRules;
      this.stuckRules = stuckRules;
      this.budgetRules = budgetRules;
      this.allRules = concat(depthRules, latencyRules, stuckRules, budgetRules);
      this.budgetResets = budgetResets;
      this.counterSlots = counterSlots;
      this.lowestDepthLimit = depthRules.length == 0 ? Integer.MAX_VALUE : depthRules[0].depthLimit;
      this.state = state;
      this.killSwitch = state.killSwitch;
    }
  }

  /** The arrays' elements in order, in one array. */
  private static RulePlan[] concat(RulePlan[]... parts) {
    int n = 0;
    for (RulePlan[] p : parts) {
      n += p.length;
    }
    RulePlan[] all = new RulePlan[n];
    int at = 0;
    for (RulePlan[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }
}
