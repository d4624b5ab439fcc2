package dev.firebreak.jfr;

/**
 * What the agent tells Java Flight Recorder (SPEC section 4): {@code firebreak.RuleTriggered} and
 * {@code firebreak.KillSwitch} ({@code firebreak.AutoFence} comes with the auto-fence), so that a
 * continuous recording and JDK Mission Control show the agent's actions beside GC and threads.
 *
 * <p>Called where alerts are made, never per call on the hot path. In a JVM where JFR was never
 * started nothing is loaded or recorded (one static check a call); the event classes are loaded
 * once a recording has started, by the evaluator within a round, so events begin about a second
 * after the recording does. Nothing at all in a runtime without the {@code jdk.jfr} module. Never
 * throws.
 */
public final class FlightEvents {
  private FlightEvents() {}

  /** True when the runtime has JFR (a jlinked runtime may not). */
  private static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

  private static volatile boolean loaded;
  private static volatile boolean failed;

  /**
   * True when events can be recorded: JFR is there and in use (a recording was started) and the
   * event classes are loaded, which is done here the first time. Not before JFR is in use: the
   * first event class of a JVM without a recording costs JFR's own initialization (0.1–0.3 s), and
   * nobody would see the event.
   */
  private static boolean ready() {
    if (loaded) {
      return true;
    }
    if (!PRESENT || failed) {
      return false;
    }
    synchronized (FlightEvents.class) {
      if (!loaded && !failed) {
        try {
          if (Events.inUse()) {
            Events.load();
            loaded = true;
          }
        } catch (StackOverflowError e) {
          // a thread deep in a runaway: another caller (the evaluator) will load them
        } catch (Throwable t) {
          failed = true; // without JFR events the agent works as before
        }
      }
    }
    return loaded;
  }

  /**
   * Once a round, on the evaluator's thread: once a recording has started, the event classes are
   * loaded here, not on an application thread at its first rule firing.
   */
  public static void poll() {
    ready();
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
    if (!ready()) {
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
    if (!ready()) {
      return;
    }
    try {
      Events.killSwitch(target, from, to, rule);
    } catch (Throwable t) {
      // as above
    }
  }

  /** The auto-fence put up a fence. */
  public static void autoFence(String target, String methods, String cycle) {
    if (!ready()) {
      return;
    }
    try {
      Events.autoFence(target, methods, cycle);
    } catch (Throwable t) {
      // as above
    }
  }
}
