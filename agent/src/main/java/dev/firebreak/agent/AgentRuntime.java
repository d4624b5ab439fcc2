package dev.firebreak.agent;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.alert.Sinks;
import dev.firebreak.bootstrap.Probe;
import dev.firebreak.instrument.Instrumenter;
import dev.firebreak.metrics.FirebreakCollector;
import dev.firebreak.metrics.MetricsServer;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.runtime.AgentErrors;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.Monitor;
import io.prometheus.client.CollectorRegistry;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The running agent: loads the rules, starts the engine, the evaluator, the alert thread and
 * /metrics, and installs the instrumentation. Every failure is reported and counted; none stops
 * the application.
 */
public final class AgentRuntime {
  private static volatile AgentRuntime instance;

  private final AgentOptions options;
  private final AlertDispatcher alerts = new AlertDispatcher();
  private final Engine engine = new Engine(alerts);
  private final Monitor monitor = new Monitor(engine);
  private final Map<String, LongAdder> reloads = new ConcurrentHashMap<>();
  private volatile RuleSet rules;
  private MetricsServer metrics;

  private AgentRuntime(AgentOptions options) {
    this.options = options;
  }

  static synchronized void start(String args, Instrumentation inst, boolean attached) {
    AgentOptions options = AgentOptions.parse(args, System.getenv());
    if (instance != null) {
      AgentErrors.report("options", "the agent is already running in this JVM; this load is ignored");
      return;
    }
    AgentRuntime rt = new AgentRuntime(options);
    instance = rt;
    rt.boot(inst);
  }

  public static AgentRuntime instance() {
    return instance;
  }

  private void boot(Instrumentation inst) {
    for (Map.Entry<String, String> e : options.unknown().entrySet()) {
      AgentErrors.report("options", "unknown or invalid agent option '" + e.getKey() + "=" + e.getValue() + "', ignored");
    }
    RuleSet loaded = load();
    rules = loaded;
    Probe.install(engine);
    if (loaded != null) {
      engine.apply(loaded);
      alerts.setSinks(Sinks.create(loaded));
    }
    startMetrics(loaded);
    monitor.start();
    try {
      new Instrumenter(engine, () -> rules).install(inst);
    } catch (Throwable t) {
      AgentErrors.report("instrument", "instrumentation failed, nothing is watched: " + AgentErrors.describe(t));
    }
  }

  private RuleSet load() {
    if (options.rules() == null) {
      AgentErrors.report("rules", "no rules file given (rules=PATH or FIREBREAK_RULES); nothing is watched");
      return null;
    }
    try {
      return RulesParser.parse(Path.of(options.rules()));
    } catch (RulesException e) {
      int more = e.errors().size() - 1;
      AgentErrors.report(
          "rules",
          "rules not loaded, nothing is watched: "
              + e.errors().get(0)
              + (more > 0 ? " (and " + more + " more; run: java -jar firebreak-agent.jar validate " + options.rules() + ")" : ""));
      return null;
    } catch (RuntimeException e) {
      AgentErrors.report("rules", "rules not loaded, nothing is watched: " + options.rules() + ": " + AgentErrors.describe(e));
      return null;
    }
  }

  private void startMetrics(RuleSet rs) {
    RuleSet.MetricsConfig fromFile = rs == null ? RuleSet.MetricsConfig.DEFAULT : rs.metrics();
    String host = options.host() != null ? options.host() : fromFile.host();
    int port = options.port() != null ? options.port() : fromFile.port();
    if (port == 0) {
      return;
    }
    CollectorRegistry registry = new CollectorRegistry();
    registry.register(new FirebreakCollector(monitor, alerts, () -> rules, reloads));
    try {
      metrics = MetricsServer.start(host, port, registry);
    } catch (Exception e) {
      AgentErrors.report(
          "metrics", "cannot serve /metrics on " + host + ":" + port + " (" + AgentErrors.describe(e) + "); the agent runs without it");
    }
  }

  public Engine engine() {
    return engine;
  }

  public Monitor monitor() {
    return monitor;
  }
}
