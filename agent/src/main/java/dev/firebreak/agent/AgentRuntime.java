package dev.firebreak.agent;

import dev.firebreak.admin.AdminEndpoints;
import dev.firebreak.admin.AdminJson;
import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.alert.Sinks;
import dev.firebreak.bootstrap.Probe;
import dev.firebreak.detect.KillSwitch;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.fence.AutoFences;
import dev.firebreak.instrument.ClassFilter;
import dev.firebreak.instrument.ClassGate;
import dev.firebreak.instrument.Instrumenter;
import dev.firebreak.metrics.FirebreakCollector;
import dev.firebreak.metrics.MetricsServer;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.Monitor;
import dev.firebreak.runtime.TargetSummary;
import dev.firebreak.secrets.SecretFile;
import io.prometheus.client.CollectorRegistry;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The running agent: loads the rules, starts the engine, the evaluator, the alert thread, /metrics
 * (and the admin endpoints), installs the instrumentation, and swaps in new rules when the file
 * changes. Every failure is reported and counted; none stops the application, and a rules file that
 * fails validation changes nothing. Reading the rules and remembering what is in force is {@link
 * RulesInForce}'s; the start-up timings are {@link StartupTimings}; the admin JSON is {@code
 * admin.AdminJson}'s.
 */
public final class AgentRuntime implements AdminEndpoints.Actions {
  private static volatile AgentRuntime instance;

  private final AgentOptions options;
  private final Instrumentation inst;
  private final AlertDispatcher alerts = new AlertDispatcher();
  private final Engine engine = new Engine(alerts);
  private final Monitor monitor = new Monitor(engine);
  private final AutoFences fences =
      new AutoFences(
          engine,
          alerts,
          new Consumer<Set<String>>() { // no lambda: no invokedynamic bootstrap at start
            @Override
            public void accept(Set<String> classes) {
              installFences(classes);
            }
          });
  private final RulesInForce rules;
  private RulesWatcher watcher;
  private boolean watcherStarted;
  private volatile Instrumenter instrumenter;
  private volatile ClassGate gate;
  private final Object instrumentLock = new Object();
  private volatile boolean instrumentationFailed;
  private volatile long readyAt;
  private volatile long instrumentedAt;
  private volatile long weaverNanos;
  private volatile long catchUpNanos;
  private volatile int catchUpClasses;
  // evaluator thread only
  private boolean secondLookDone;

  /** The last timings published, so that a quiet round publishes nothing. */
  private StartupTimings timingPublished;

  private MetricsServer metrics;

  private AgentRuntime(AgentOptions options, Instrumentation inst) {
    this.options = options;
    this.inst = inst;
    this.rules = new RulesInForce(options.rules());
  }

  /**
   * The first half of the agent's start: the runtime with the rules applied to its engine, nothing
   * instrumented, nothing started, the class gate not told (it still holds back what the rules may
   * name). {@link #finish} does the rest. Null when an agent runs already: it took the new options.
   *
   * @param rulesBytes the rules file as premain read it (and looked at its class globs), or null
   * @param early the rules the start thread parsed already, or null to parse them here
   */
  static AgentRuntime prepare(
      String args,
      Instrumentation inst,
      boolean attached,
      ClassGate gate,
      byte[] rulesBytes,
      EarlyRules early) {
    AgentOptions options = AgentOptions.parse(args, attached ? Map.of() : System.getenv());
    AgentRuntime running;
    synchronized (AgentRuntime.class) {
      if (instance == null) {
        AgentRuntime rt = new AgentRuntime(options, inst);
        instance = rt;
        rt.readRules(attached, gate, rulesBytes, early);
        return rt;
      }
      running = instance;
    }
    // a second attach: new rules (or --detach) for the agent already running, never a second
    // agent; one that comes while the first start is between its halves waits for the second
    running.awaitFinished();
    synchronized (AgentRuntime.class) {
      running.reattach(options);
    }
    return null;
  }

  /** Counted down when {@link #finish} is done. */
  private final java.util.concurrent.CountDownLatch finished =
      new java.util.concurrent.CountDownLatch(1);

  /** How long a second attach waits for the first start's second half (one that failed: never). */
  private static final long FINISH_WAIT_SECONDS = 60;

  private void awaitFinished() {
    try {
      finished.await(FINISH_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The rules file as the start thread parsed it, before the runtime existed. */
  record EarlyRules(RuleSet rules) {}

  public static AgentRuntime instance() {
    return instance;
  }

  /** The rules in force when {@link #readRules} was done, for {@link #finish}. */
  private RuleSet initial;

  /**
   * Runs on the agent's start thread (or, attached, on the thread of {@code attach}, which reports
   * success only after {@link #finish}): reads the rules (unless the start thread did) and puts
   * them in the engine. By default ({@code startup=watched}) premain installed the class gate
   * already; with {@code startup=lazy} it is installed here and holds nothing back; attached, it
   * holds classes a rule may match until the instrumentation is ready, before {@code attach}
   * returns.
   */
  private void readRules(
      boolean attached, ClassGate premainGate, byte[] rulesBytes, EarlyRules early) {
    for (Map.Entry<String, String> e : options.unknown().entrySet()) {
      AgentErrors.report(
          "options",
          "unknown or invalid agent option '" + e.getKey() + "=" + e.getValue() + "', ignored");
    }
    engine.net(fences);
    Probe.install(engine);
    ClassGate g = premainGate;
    if (g == null) {
      ClassGate.primeGlobs();
      g = new ClassGate(new ClassFilter(), attached);
      g.prime();
      g.startedBy(Thread.currentThread());
      inst.addTransformer(g, true);
    }
    gate = g;
    RuleSet loaded = early != null ? early.rules() : rules.readInitial(rulesBytes);
    if (loaded != null) {
      swapIn(loaded);
    }
    initial = loaded;
    prepareWatcher();
  }

  /**
   * The second half of the start: tells the class gate the rules, builds the instrumentation at
   * once when a rule names a class (classes a rule may match may be waiting for it at the gate),
   * retransforms what loaded before it was ready and lets the calls waiting in a pending entry go
   * on, then starts the evaluator, /metrics and the rules watcher.
   */
  void finish() {
    try {
      finishStart();
    } finally {
      finished.countDown();
    }
  }

  /**
   * During the yield of a long start, once the rules are read with a class loaded with the pending
   * entry: the first half of {@link #finish} at once (rules in force, instrumentation, the pending
   * classes settled), so that the calls that come later in the start do not wait. The rest (the
   * catch-up, /metrics, the evaluator) still waits for the end of the yield.
   */
  void settleEarly() {
    synchronized (AgentRuntime.class) {
      putRulesInForce();
    }
  }

  /** Whether {@link #putRulesInForce} ran. Guarded by the class lock. */
  private boolean rulesInForce;

  /**
   * The rules in force for the classes that load from now on, the instrumentation built and the
   * classes that loaded with the pending entry given what the rules say; the calls waiting in them
   * go on. Once.
   */
  private void putRulesInForce() {
    if (rulesInForce) {
      return;
    }
    rulesInForce = true;
    ClassGate g = gate;
    RuleSet loaded = initial;
    g.rulesKnown(loaded);
    if (loaded != null && loaded.instruments()) {
      ensureInstrumentation(false);
    }
    // the calls waiting in a pending entry first: they need only their own classes
    settlePending(g);
  }

  private void finishStart() {
    synchronized (AgentRuntime.class) {
      RuleSet loaded = initial;
      putRulesInForce();
      if (instrumenter != null) {
        catchUp(instrumenter);
      }
      readyAt = System.nanoTime();
      startMetrics(loaded);
      monitor.afterTick(
          new Runnable() {
            @Override
            public void run() {
              afterTick();
            }
          });
      monitor.start();
      startWatcher();
      status();
    }
  }

  /**
   * Builds the advice transformer, hands it to the class gate, and retransforms the loaded classes
   * the rules match. Once; false if it failed (then nothing is instrumented, and nothing waits).
   */
  private boolean ensureInstrumentation() {
    return ensureInstrumentation(true);
  }

  /**
   * @param catchUp also retransform at once what the rules match among the loaded classes (the
   *     start does that itself, after the classes with a pending entry)
   */
  private boolean ensureInstrumentation(boolean catchUp) {
    synchronized (instrumentLock) {
      if (instrumenter != null) {
        return true;
      }
      if (instrumentationFailed) {
        return false;
      }
      ClassGate g = gate;
      try {
        long begin = System.nanoTime();
        AgentJar.warmUpWeaver(); // done already by the warm-up thread at a watched start
        Instrumenter i = new Instrumenter(engine, rules, g.filter());
        g.ready(i.transformer());
        instrumenter = i;
        instrumentedAt = System.nanoTime();
        weaverNanos = instrumentedAt - begin;
        if (catchUp) {
          catchUp(i);
        }
        return true;
      } catch (Throwable t) {
        instrumentationFailed = true;
        g.failed();
        AgentErrors.report(
            "instrument", "instrumentation failed, nothing is watched: " + AgentErrors.describe(t));
        return false;
      }
    }
  }

  /** Retransforms the loaded classes the rules match that are not woven yet. */
  private void catchUp(Instrumenter i) {
    long begin = System.nanoTime();
    catchUpClasses = i.retransformUnwatched(inst, rules.rules());
    catchUpNanos = System.nanoTime() - begin;
  }

  /** How long the start looks for a class that loaded with the pending entry. */
  private static final long SETTLE_NANOS = 1_000_000_000L;

  /**
   * The classes that loaded with the pending entry while the rules were read get what the rules say
   * (the instrumentation, or their own bytecode back), then the calls waiting in them go on and
   * call again. A class still being defined is looked for again, for a second at most.
   */
  private void settlePending(ClassGate g) {
    try {
      Set<String> done = new HashSet<>();
      long deadline = System.nanoTime() + SETTLE_NANOS;
      while (true) {
        Set<String> names = new HashSet<>(g.pended());
        names.removeAll(done);
        if (names.isEmpty()) {
          break;
        }
        // a class woven already (it loaded once the transformer was ready) needs no second one
        Instrumenter i = instrumenter;
        Set<String> watched = i == null ? Set.of() : i.watchedClasses();
        Set<String> found = new HashSet<>();
        List<Class<?>> again = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
          if (names.contains(c.getName()) && inst.isModifiableClass(c)) {
            found.add(c.getName());
            if (!watched.contains(c.getName())) {
              again.add(c);
            }
          }
        }
        Instrumenter.retransformAll(inst, again);
        done.addAll(found);
        if (found.size() == names.size()) {
          continue; // one more look: a class may have joined meanwhile
        }
        if (System.nanoTime() > deadline) {
          names.removeAll(found);
          AgentErrors.report(
              "instrument", "classes loaded while the agent started were not found: " + names);
          break;
        }
        Thread.sleep(5);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      AgentErrors.report("instrument", "start: " + AgentErrors.describe(t));
    } finally {
      Probe.releasePending();
    }
  }

  /** On the evaluator thread after every round. */
  private void afterTick() {
    if (!secondLookDone && readyAt != 0 && System.nanoTime() - readyAt > 1_000_000_000L) {
      // startup=lazy: a class that passed the gate just before the instrumentation was ready, but
      // was not yet among the loaded classes when they were listed: one more look, a second later
      secondLookDone = true;
      Instrumenter i = instrumenter;
      if (i != null) {
        i.retransformUnwatched(inst, rules.rules());
      }
    }
    StartupTimings now = timings();
    if (!now.equals(timingPublished)) {
      timingPublished = now;
      now.publish(); // String.format and setProperty: not every round of a quiet JVM
    }
  }

  private StartupTimings timings() {
    return StartupTimings.of(
        readyAt, instrumentedAt, weaverNanos, catchUpNanos, catchUpClasses, gate);
  }

  private synchronized void prepareWatcher() {
    if (watcher == null && rules.path() != null) {
      watcher = new RulesWatcher(this);
    }
  }

  private synchronized void startWatcher() {
    prepareWatcher();
    if (watcher != null && !watcherStarted) {
      watcherStarted = true;
      watcher.start();
    }
  }

  /** What {@code attach} reads back from the target JVM's system properties. */
  private void status() {
    timings().publish();
    RuleSet rs = rules.rules();
    System.setProperty("firebreak.status", rs == null ? "running, no rules in force" : "running");
    System.setProperty("firebreak.rules.sha256", rs == null ? "" : rs.sha256());
    System.setProperty("firebreak.rules.source", rs == null ? "" : rs.source());
  }

  /** {@code attach} into a JVM that already runs the agent: swap the rules, or drop them all. */
  synchronized void reattach(AgentOptions next) {
    if (next.detach()) {
      RuleSet old = rules.rules();
      rules.path(null);
      RuleSet none = RuleSet.empty(old);
      swapIn(none);
      int classes = instrumenter == null ? 0 : instrumenter.retransform(inst, old, none);
      AgentErrors.log(
          "detached: no rules in force, "
              + classes
              + " classes restored to their original bytecode");
      System.setProperty("firebreak.status", "detached");
      System.setProperty("firebreak.rules.sha256", "");
      return;
    }
    if (next.rules() == null) {
      AgentErrors.report("options", "attach without a rules file; the rules in force stay");
      return;
    }
    rules.path(next.rules());
    reload();
    startWatcher();
    status();
  }

  String rulesPath() {
    return rules.path();
  }

  /**
   * Puts a validated rule set in force, with the auto-fence's fences: engine, sinks, admin token,
   * the file's text for /rules.
   */
  private void swapIn(RuleSet file) {
    RuleSet next = fences.effective(file);
    engine.apply(next);
    rules.accept(next);
    ClassGate g = gate;
    if (g != null) {
      g.rules(next);
    }
    alerts.setSinks(Sinks.create(next));
  }

  /**
   * On the auto-fence's thread: a fence went up. The rules in force get it (nothing else changes:
   * the file, its text, the sinks stay), and the classes of its methods are retransformed.
   */
  private synchronized void installFences(Set<String> classes) {
    RuleSet current = rules.rules();
    if (current == null) {
      return;
    }
    RuleSet next = fences.effective(current);
    engine.apply(next);
    rules.acceptFences(next);
    ClassGate g = gate;
    if (g != null) {
      g.rules(next);
    }
    Instrumenter i = instrumenter;
    if (i != null) {
      i.retransformNamed(inst, classes);
    }
  }

  /**
   * Re-reads the rules file. A file that fails validation changes nothing: the rules in force stay,
   * the failure is counted and one line says why. An identical file is a no-op.
   */
  @Override
  public synchronized AdminEndpoints.Result reload() {
    RulesInForce.Read read = rules.readForReload();
    if (read.next() == null) {
      return read.answer();
    }
    RuleSet old = rules.rules();
    RuleSet next = read.next();
    swapIn(next);
    int classes = 0;
    try {
      if (instrumenter == null && next.instruments() && ensureInstrumentation()) {
        // the instrumentation was not built yet: it just instrumented what the new rules match
        classes = catchUpClasses;
      } else {
        classes = instrumenter == null ? 0 : instrumenter.retransform(inst, old, next);
      }
    } catch (Throwable t) {
      AgentErrors.report(
          "instrument", "retransformation after the reload failed: " + AgentErrors.describe(t));
    }
    rules.count("success");
    AgentErrors.log(
        "rules reloaded from "
            + next.source()
            + " (sha256 "
            + RulesInForce.shortSha(next)
            + ", "
            + next.targets().size()
            + " targets, "
            + classes
            + " classes retransformed)");
    if (old != null && !old.metrics().equals(next.metrics())) {
      AgentErrors.log(
          "the new metrics settings (host, port, tls, basic-auth) apply at the next restart");
    }
    status();
    return new AdminEndpoints.Result(
        true,
        "{\"result\":\"success\",\"sha256\":\""
            + next.sha256()
            + "\",\"classes_retransformed\":"
            + classes
            + "}");
  }

  RuleSet rules() {
    return rules.rules();
  }

  private void startMetrics(RuleSet rs) {
    RuleSet.MetricsConfig fromFile = rs == null ? RuleSet.MetricsConfig.DEFAULT : rs.metrics();
    String host = options.host() != null ? options.host() : fromFile.host();
    int port = options.port() != null ? options.port() : fromFile.port();
    if (port == 0) {
      return;
    }
    CollectorRegistry registry = new CollectorRegistry();
    registry.register(
        new FirebreakCollector(monitor, alerts, rules, rules.reloads(), fences.counts()));
    try {
      metrics = MetricsServer.start(host, port, fromFile, registry, new AdminEndpoints(this));
    } catch (Exception e) {
      AgentErrors.report(
          "metrics",
          "cannot serve /metrics on "
              + host
              + ":"
              + port
              + " ("
              + AgentErrors.describe(e)
              + "); the agent runs without it");
    }
  }

  // ---------------------------------------------------------------- admin

  @Override
  public byte[] tokenDigest() {
    SecretFile token = rules.adminToken();
    return token == null ? null : token.digest();
  }

  @Override
  public String rulesJson() {
    return AdminJson.rules(rules.rules(), rules.text());
  }

  @Override
  public String targetsJson() {
    return AdminJson.targets(TargetSummary.of(engine, monitor));
  }

  @Override
  public boolean open(String target) {
    KillSwitch ks = engine.killSwitch(target);
    if (ks == null) {
      return false;
    }
    ks.forceOpen(System.nanoTime());
    AgentErrors.log("kill switch of target " + target + " opened by an admin request");
    return true;
  }

  @Override
  public boolean close(String target) {
    KillSwitch ks = engine.killSwitch(target);
    if (ks == null) {
      return false;
    }
    ks.forceClose();
    AgentErrors.log("kill switch of target " + target + " closed by an admin request");
    return true;
  }

  public Engine engine() {
    return engine;
  }

  public Monitor monitor() {
    return monitor;
  }
}
