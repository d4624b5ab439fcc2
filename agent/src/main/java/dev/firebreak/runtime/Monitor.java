package dev.firebreak.runtime;

import dev.firebreak.detect.KillSwitch;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.Rule;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.TargetPlan;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The reader side, on the agent's own thread ({@code firebreak-evaluator}): a round runs its parts
 * in order, each on its own so that one failing cannot stop the others: the kill switches first
 * ({@link SwitchWatcher}), then draining the per-thread recorders ({@link Drainer}) into the
 * latency windows ({@link LatencyRules}), then the {@code duration} watchdog ({@link Watchdog}).
 * Also what /metrics reads. Its public methods hold its lock: one reader at a time.
 */
public final class Monitor {
  private final Engine engine;
  private final SwitchWatcher switches;
  private final Drainer drainer;
  private final LatencyRules latency;
  private final Watchdog watchdog;

  /** The plan the evaluator's state was last trimmed to. */
  private Plan retainedFor;

  private Thread thread;
  private volatile boolean running;

  /** Run after every round, or null. */
  private volatile Runnable afterTick;

  public Monitor(Engine engine) {
    this.engine = engine;
    this.switches = new SwitchWatcher(engine);
    this.latency = new LatencyRules(engine);
    this.watchdog = new Watchdog(engine);
    this.drainer = new Drainer(engine, watchdog);
  }

  public synchronized void start() {
    if (thread != null) {
      return;
    }
    running = true;
    thread =
        new Thread(
            new Runnable() { // no lambda: no invokedynamic bootstrap on the agent's start
              @Override
              public void run() {
                loop();
              }
            },
            "firebreak-evaluator");
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
      tick(System.nanoTime());
      Runnable after = afterTick;
      if (after != null) {
        try {
          after.run();
        } catch (Throwable t) {
          failed(t);
        }
      }
      long until = System.nanoTime() + periodMillis() * 1_000_000;
      long left;
      long nap = REAP_MILLIS;
      while (running && (left = until - System.nanoTime()) > 0) {
        try {
          Thread.sleep(Math.max(1, Math.min(nap, left / 1_000_000)));
        } catch (InterruptedException e) {
          if (!running) {
            return;
          }
        }
        nap = reapedBetweenRounds() ? CHURN_REAP_MILLIS : REAP_MILLIS;
      }
    }
  }

  /** How often the evaluator looks whether threads keep starting, between rounds. */
  static final long REAP_MILLIS = 100;

  /**
   * How often it looks while they do (the last look released dead threads' states): a state that
   * lingers until a young collection is copied by it, and by each one after until it is released.
   * Churned threads' states were copied this way a dozen times each when they were looked for only
   * every 1,024 threads: about 5 µs of pauses per thread, half the agent's cost for a short-lived
   * thread.
   */
  static final long CHURN_REAP_MILLIS = 10;

  /** Threads started since the last look that make a look between rounds worth it. */
  static final long REAP_AFTER = 32;

  private long registeredAtReap;

  /**
   * Between rounds: when many threads started since the last look (a thread per request, virtual
   * threads), release the dead ones now rather than at the next round, so their state never piles
   * up.
   */
  synchronized void reapIfManyStarted() {
    reapedBetweenRounds();
  }

  /** {@link #reapIfManyStarted}; whether it looked. Reported, never thrown. */
  private synchronized boolean reapedBetweenRounds() {
    try {
      long n = engine.registered.sum();
      if (n - registeredAtReap >= REAP_AFTER) {
        registeredAtReap = n;
        drainer.reap();
        return true;
      }
    } catch (Throwable t) {
      failed(t);
    }
    return false;
  }

  /** At least once a second; faster when a duration rule needs it (duration/4). */
  long periodMillis() {
    long period = 1000;
    Plan plan = engine.plan();
    for (TargetPlan t : plan.targets) {
      if (t.killSwitch.state() != KillSwitch.State.CLOSED) {
        // the hot path never reads the clock for an open switch: this thread half-opens it on time
        period = Math.min(period, Math.max(10, t.killSwitch.openForNanos() / 4_000_000));
      }
      for (RulePlan r : t.stuckRules) {
        long quarter = ((Rule.Stuck) r.rule.condition()).limit().toMillis() / 4;
        period = Math.min(period, Math.max(10, quarter));
      }
    }
    return period;
  }

  /** One evaluation round. A part that fails is reported; the parts after it still run. */
  public synchronized void tick(long now) {
    Plan plan = engine.plan();
    boolean retain = plan != retainedFor;
    retainedFor = plan;
    for (int part = 0; part < PARTS; part++) {
      try {
        run(part, plan, now, retain);
      } catch (Throwable t) {
        failed(t);
      }
    }
  }

  private static final int PARTS = 5;

  /** Part {@code part} of a round; {@code retain}: the plan is new since the last round. */
  private void run(int part, Plan plan, long now, boolean retain) {
    switch (part) {
      case 0 -> switches.poll(plan, now);
      case 1 -> drain(plan, now);
      case 2 -> latency.evaluate(plan, now);
      case 3 -> watchdog.watch(plan, now);
      default -> {
        if (retain) {
          retain(plan);
        }
      }
    }
  }

  private static void failed(Throwable t) {
    AgentErrors.report("evaluator", "evaluator step failed: " + AgentErrors.describe(t));
  }

  /** Moves every thread's recorded latencies into the per-method totals and windows. */
  public synchronized void drain(long now) {
    drain(engine.plan(), now);
  }

  private void drain(Plan plan, long now) {
    registeredAtReap = engine.registered.sum();
    drainer.drain(latency, plan, now);
  }

  /** A new plan: release what the evaluator kept for rules and targets it dropped. */
  private void retain(Plan plan) {
    latency.retain(plan);
  }

  /** How many latency windows the evaluator holds (for tests of its memory bound). */
  synchronized int latencyWindows() {
    return latency.windowCount();
  }

  // ---------------------------------------------------------------- for /metrics

  /** Every method's calls, by method id: one pass over the threads. */
  public synchronized long[] calls() {
    return drainer.calls();
  }

  /** Every method's summed call time in seconds, by method id. */
  public synchronized double[] sumSeconds() {
    long[] n = drainer.sumNanos();
    double[] s = new double[n.length];
    for (int i = 0; i < n.length; i++) {
      s[i] = n[i] / 1e9;
    }
    return s;
  }

  public long calls(int id) {
    long[] c = calls();
    return id < c.length ? c[id] : 0;
  }

  /** A copy of the method's latencies since start, or null if none completed. */
  public synchronized Histogram cumulative(int id) {
    return drainer.cumulative(id);
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
      String name,
      int depthMax,
      int inflight,
      int killSwitchState,
      long shortLimit,
      long shortOpen,
      long shortForced) {}

  /** One rule's trigger count, with its labels as in force. */
  public record RuleMetrics(
      String rule, String target, String action, String mode, long triggers) {}

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
        out.add(
            new RuleMetrics(r.name, t.name, r.actionLabel, r.modeLabel, r.state.triggers.sum()));
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

  /** Methods of timed targets under the rules in force: those with a duration histogram. */
  public List<MethodInfo> timedMethods() {
    List<MethodInfo> out = new ArrayList<>();
    for (MethodPlan mp : engine.plan().methods) {
      if (mp != null && mp.target.timed) {
        out.add(mp.info);
      }
    }
    return out;
  }

  /** How many thread states a thread holds now (live threads, and dead ones not yet released). */
  public int threadStates() {
    int n = 0;
    for (ThreadState ts : engine.threads) {
      if (ts.currentThread() != null) {
        n++;
      }
    }
    return n;
  }

  /** How many thread states were made and are kept (for tests of the memory bound). */
  int statesMade() {
    return engine.threads.size();
  }
}
