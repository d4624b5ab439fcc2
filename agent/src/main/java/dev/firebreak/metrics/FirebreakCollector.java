package dev.firebreak.metrics;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.bootstrap.Probe;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.MethodInfo;
import dev.firebreak.runtime.Monitor;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/** Every metric of SPEC section 3, computed at scrape time from the engine's state. */
public final class FirebreakCollector extends Collector {

  /** Bucket bounds in seconds: 1-2.5-5 per decade from 1 µs to 10 s. */
  static final double[] BUCKETS = buckets();

  private final Monitor monitor;
  private final AlertDispatcher alerts;
  private final Supplier<RuleSet> rulesInForce;
  private final Map<String, LongAdder> reloads;
  private final Map<String, LongAdder> autoFences;

  public FirebreakCollector(
      Monitor monitor,
      AlertDispatcher alerts,
      Supplier<RuleSet> rulesInForce,
      Map<String, LongAdder> reloads) {
    this(monitor, alerts, rulesInForce, reloads, Map.of());
  }

  /**
   * @param autoFences fences the auto-fence put up, by target
   */
  public FirebreakCollector(
      Monitor monitor,
      AlertDispatcher alerts,
      Supplier<RuleSet> rulesInForce,
      Map<String, LongAdder> reloads,
      Map<String, LongAdder> autoFences) {
    this.monitor = monitor;
    this.alerts = alerts;
    this.rulesInForce = rulesInForce;
    this.reloads = reloads;
    this.autoFences = autoFences;
  }

  private static double[] buckets() {
    List<Double> b = new ArrayList<>();
    for (double decade = 1e-6; decade < 10; decade *= 10) {
      b.add(decade);
      b.add(decade * 2.5);
      b.add(decade * 5);
    }
    b.add(10.0);
    double[] out = new double[b.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Double.parseDouble(String.format(java.util.Locale.ROOT, "%.3g", b.get(i)));
    }
    return out;
  }

  @Override
  public List<MetricFamilySamples> collect() {
    List<MetricFamilySamples> out = new ArrayList<>();
    try {
      monitor.drain(System.nanoTime());
      RuleSet inForce = rulesInForce.get();
      int limit =
          inForce == null
              ? RuleSet.MetricsConfig.DEFAULT_METHODS_PER_TARGET
              : inForce.metrics().methodsPerTarget();
      List<Series> methods = series(monitor.trackedMethods(), limit);

      CounterMetricFamily calls =
          new CounterMetricFamily(
              "firebreak_calls_total",
              "Calls of instrumented methods, short-circuited ones included.",
              List.of("target", "method"));
      long[] byMethod = monitor.calls();
      for (Series s : methods) {
        long n = 0;
        for (int id : s.ids) {
          n += id < byMethod.length ? byMethod[id] : 0;
        }
        calls.addMetric(List.of(s.target, s.method), n);
      }
      out.add(calls);
      out.add(durations(series(monitor.timedMethods(), limit)));

      GaugeMetricFamily depth =
          new GaugeMetricFamily(
              "firebreak_call_depth_max",
              "Deepest call depth seen since the last scrape.",
              List.of("target"));
      GaugeMetricFamily inflight =
          new GaugeMetricFamily("firebreak_inflight_calls", "Calls in flight.", List.of("target"));
      GaugeMetricFamily state =
          new GaugeMetricFamily(
              "firebreak_kill_switch_state",
              "Kill switch state: 0 closed, 1 open, 2 half-open.",
              List.of("target"));
      CounterMetricFamily shorts =
          new CounterMetricFamily(
              "firebreak_short_circuits_total",
              "Calls short-circuited with the target's fallback.",
              List.of("target", "reason"));
      for (Monitor.TargetMetrics t : monitor.targets()) {
        depth.addMetric(List.of(t.name()), t.depthMax());
        inflight.addMetric(List.of(t.name()), t.inflight());
        state.addMetric(List.of(t.name()), t.killSwitchState());
        shorts.addMetric(List.of(t.name(), "limit"), t.shortLimit());
        shorts.addMetric(List.of(t.name(), "open"), t.shortOpen());
        shorts.addMetric(List.of(t.name(), "forced"), t.shortForced());
      }
      out.add(depth);
      out.add(inflight);
      out.add(state);
      out.add(shorts);

      CounterMetricFamily triggers =
          new CounterMetricFamily(
              "firebreak_rule_triggers_total",
              "Times a rule's condition was met.",
              List.of("rule", "target", "action", "mode"));
      for (Monitor.RuleMetrics r : monitor.rules()) {
        triggers.addMetric(List.of(r.rule(), r.target(), r.action(), r.mode()), r.triggers());
      }
      out.add(triggers);

      CounterMetricFamily fenced =
          new CounterMetricFamily(
              "firebreak_auto_fences_total",
              "Fences the auto-fence put up on a runaway cycle no rule named.",
              List.of("target"));
      for (Map.Entry<String, LongAdder> e : new java.util.TreeMap<>(autoFences).entrySet()) {
        fenced.addMetric(List.of(e.getKey()), e.getValue().sum());
      }
      out.add(fenced);

      CounterMetricFamily alertCounts =
          new CounterMetricFamily(
              "firebreak_alerts_total",
              "Alert notifications by sink and result.",
              List.of("sink", "result"));
      for (Map.Entry<String, LongAdder> e : new java.util.TreeMap<>(alerts.counts()).entrySet()) {
        String[] k = e.getKey().split("\\|", 2);
        alertCounts.addMetric(List.of(k[0], k[1]), e.getValue().sum());
      }
      out.add(alertCounts);

      GaugeMetricFamily info =
          new GaugeMetricFamily(
              "firebreak_rules_info",
              "The rules file in force.",
              List.of("version", "sha256", "source"));
      RuleSet rules = rulesInForce.get();
      if (rules != null) {
        info.addMetric(List.of(String.valueOf(rules.version()), rules.sha256(), rules.source()), 1);
      }
      out.add(info);

      CounterMetricFamily reloadCounts =
          new CounterMetricFamily(
              "firebreak_rules_reloads_total", "Rules reloads by result.", List.of("result"));
      for (String result : List.of("success", "failure")) {
        LongAdder a = reloads.get(result);
        reloadCounts.addMetric(List.of(result), a == null ? 0 : a.sum());
      }
      out.add(reloadCounts);
    } catch (Throwable t) {
      AgentErrors.report("metrics", "collecting metrics failed: " + AgentErrors.describe(t));
    }
    out.add(errors());
    return out;
  }

  /** The method label of the series that sums a target's methods past the limit. */
  static final String OTHER = "(other)";

  private final java.util.Set<String> announced =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * One exported series: a method of a target, or the sum of the target's methods past the limit.
   */
  private static final class Series {
    final String target;
    final String method;
    final List<Integer> ids = new ArrayList<>(1);

    Series(String target, String method) {
      this.target = target;
      this.method = method;
    }
  }

  /**
   * The series {@code methods} (in id order: the order they were instrumented) are exported as: the
   * first {@code limit} methods of each target one by one, the others summed into {@link #OTHER},
   * so /metrics stays small whatever a broad target matches.
   */
  private List<Series> series(List<MethodInfo> methods, int limit) {
    Map<String, Integer> perTarget = new java.util.HashMap<>();
    Map<String, Series> out = new java.util.LinkedHashMap<>();
    for (MethodInfo m : methods) {
      int n = perTarget.merge(m.targetName(), 1, Integer::sum);
      String label = n <= limit ? m.label() : OTHER;
      out.computeIfAbsent(m.targetName() + "\0" + label, k -> new Series(m.targetName(), label))
          .ids
          .add(m.id());
    }
    for (Map.Entry<String, Integer> e : perTarget.entrySet()) {
      if (e.getValue() > limit && announced.add(e.getKey())) {
        AgentErrors.log(
            "target "
                + e.getKey()
                + " has "
                + e.getValue()
                + " methods instrumented, more than metrics.methods-per-target ("
                + limit
                + "): /metrics sums the others into method=\""
                + OTHER
                + "\"");
      }
    }
    return new ArrayList<>(out.values());
  }

  private MetricFamilySamples durations(List<Series> methods) {
    List<MetricFamilySamples.Sample> samples = new ArrayList<>();
    String name = "firebreak_call_duration_seconds";
    List<String> names = List.of("target", "method");
    List<String> bucketNames = List.of("target", "method", "le");
    double[] sums = monitor.sumSeconds();
    for (Series m : methods) {
      Histogram h = null;
      double sum = 0;
      for (int id : m.ids) {
        Histogram c = monitor.cumulative(id);
        if (c != null && h == null) {
          h = c;
        } else if (c != null) {
          h.add(c);
        }
        sum += id < sums.length ? sums[id] : 0;
      }
      long total = h == null ? 0 : h.getTotalCount();
      for (double le : BUCKETS) {
        long count = h == null ? 0 : h.getCountBetweenValues(0, (long) (le * 1e9));
        samples.add(
            new MetricFamilySamples.Sample(
                name + "_bucket",
                bucketNames,
                List.of(m.target, m.method, doubleToGoString(le)),
                Math.min(count, total)));
      }
      samples.add(
          new MetricFamilySamples.Sample(
              name + "_bucket", bucketNames, List.of(m.target, m.method, "+Inf"), total));
      samples.add(
          new MetricFamilySamples.Sample(
              name + "_count", names, List.of(m.target, m.method), total));
      samples.add(
          new MetricFamilySamples.Sample(name + "_sum", names, List.of(m.target, m.method), sum));
    }
    return new MetricFamilySamples(name, Type.HISTOGRAM, "Duration of completed calls.", samples);
  }

  private static MetricFamilySamples errors() {
    CounterMetricFamily errors =
        new CounterMetricFamily(
            "firebreak_agent_errors_total", "Errors inside the agent, by kind.", List.of("kind"));
    Map<String, LongAdder> counts = new java.util.TreeMap<>(AgentErrors.counts());
    for (Map.Entry<String, LongAdder> e : counts.entrySet()) {
      errors.addMetric(List.of(e.getKey()), e.getValue().sum());
    }
    long advice = Probe.errors();
    if (advice > 0 || !counts.containsKey("advice")) {
      errors.addMetric(List.of("advice"), advice);
    }
    return errors;
  }
}
