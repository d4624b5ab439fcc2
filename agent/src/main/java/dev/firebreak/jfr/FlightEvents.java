package dev.firebreak.jfr;

/**
 * What the agent tells Java Flight Recorder (SPEC section 4): {@code firebreak.RuleTriggered} and
 * {@code firebreak.KillSwitch} ({@code firebreak.AutoFence} comes with the auto-fence), so that a
 * continuous recording and JDK Mission Control show the agent's actions beside GC and threads.
 *
 * <p>Called where alerts are made, never per call on the hot path. Costs next to nothing when no
 * recording runs (the event is not enabled), and nothing at all in a runtime without the {@code
 * jdk.jfr} module: the event classes are only loaded when it is there. Never throws.
 */
public final class FlightEvents {
  private FlightEvents() {}

  /** True when the runtime has JFR (a jlinked runtime may not). */
  private static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

  /**
   * Loads and registers the event classes: called when the agent starts, so that the first event is
   * not the one to load them on an application thread that may be out of stack.
   */
  public static void load() {
    if (!PRESENT) {
      return;
    }
    try {
      Events.load();
    } catch (Throwable t) {
      // without JFR events the agent works as before
    }
  }

  /** A rule fired (once per rule and target per repeat interval, as its alert). */
  public static void ruleTriggered(
      String rule,
      String target,
      String method,
      String action,
      String mode,
      double value,
      double threshold) {
    if (!PRESENT) {
      return;
    }
    try {
      Events.ruleTriggered(rule, target, method, action, mode, value, threshold);
    } catch (Throwable t) {
      // a recorder that fails (or a thread out of stack) costs the event, never the caller
    }
  }

  /** A kill switch moved, as the evaluator saw it. */
  public static void killSwitch(String target, String from, String to, String rule) {
    if (!PRESENT) {
      return;
    }
    try {
      Events.killSwitch(target, from, to, rule);
    } catch (Throwable t) {
      // as above
    }
  }
}
