package dev.firebreak.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The event classes; only {@link FlightEvents} loads this class, and only when JFR is there. */
final class Events {
  private Events() {}

  /** JFR has been started in this JVM (a recording exists or existed). */
  static boolean inUse() {
    return FlightRecorder.isInitialized();
  }

  /** Loads the event classes (JFR registers an event class when it loads). */
  static void load() {
    new RuleTriggered();
    new KillSwitch();
    new AutoFence();
  }

  static void autoFence(String target, String methods, String cycle) {
    AutoFence e = new AutoFence();
    if (e.shouldCommit()) {
      e.target = target;
      e.methods = methods;
      e.cycle = cycle;
      e.commit();
    }
  }

  static void ruleTriggered(
      String rule,
      String target,
      String method,
      String action,
      String mode,
      double value,
      double threshold) {
    RuleTriggered e = new RuleTriggered();
    if (e.shouldCommit()) {
      e.rule = rule;
      e.target = target;
      e.method = method;
      e.action = action;
      e.mode = mode;
      e.value = value;
      e.threshold = threshold;
      e.commit();
    }
  }

  static void killSwitch(String target, String from, String to, String rule) {
    KillSwitch e = new KillSwitch();
    if (e.shouldCommit()) {
      e.target = target;
      e.from = from;
      e.to = to;
      e.rule = rule;
      e.commit();
    }
  }

  @Name("firebreak.RuleTriggered")
  @Label("Firebreak Rule Triggered")
  @Category("Firebreak")
  @Description("A Firebreak rule fired (at most once per rule and target per repeat-interval)")
  @StackTrace(false)
  static final class RuleTriggered extends Event {
    @Label("Rule")
    String rule;

    @Label("Target")
    String target;

    @Label("Method")
    String method;

    @Label("Action")
    String action;

    @Label("Mode")
    String mode;

    @Label("Value")
    double value;

    @Label("Threshold")
    double threshold;
  }

  @Name("firebreak.KillSwitch")
  @Label("Firebreak Kill Switch")
  @Category("Firebreak")
  @Description("A Firebreak kill switch changed state (closed, open, half-open)")
  @StackTrace(false)
  static final class KillSwitch extends Event {
    @Label("Target")
    String target;

    @Label("From")
    String from;

    @Label("To")
    String to;

    @Label("Rule")
    @Description("The rule that tripped the switch, when it opened")
    String rule;
  }

  @Name("firebreak.AutoFence")
  @Label("Firebreak Auto-Fence")
  @Category("Firebreak")
  @Description("The auto-fence put a fence on a runaway cycle of methods no rule named")
  @StackTrace(false)
  static final class AutoFence extends Event {
    @Label("Target")
    String target;

    @Label("Methods")
    @Description("The fenced methods, Class.method, comma-separated")
    String methods;

    @Label("Cycle")
    @Description("One round of the cycle, folded, innermost frame first")
    String cycle;
  }
}
