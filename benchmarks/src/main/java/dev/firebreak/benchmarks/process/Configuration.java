package dev.firebreak.benchmarks.process;

import dev.firebreak.benchmarks.PeerAgents;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One way of running the chat service: its JVM flags, and how to check (in a separate, unmeasured
 * run) that its agent really instruments the four methods.
 *
 * <p>{@code {port}} in a flag is replaced by a free port each time the service starts.
 */
record Configuration(
    String name,
    String label,
    List<String> jvmArgs,
    List<String> verifyJvmArgs,
    Check check,
    List<Marker> markers,
    boolean underLoad) {

  /** How a configuration's instrumentation is checked. */
  enum Check {
    /** nothing to check (no agent) */
    NONE,
    /** Firebreak: {@code firebreak_calls_total} on its metrics port counts calls of every method */
    FIREBREAK_METRICS,
    /**
     * a peer: its span log (exporter or debug log, on in the verification run only) names every
     * method
     */
    LOG_MARKERS
  }

  /** A line pattern in a peer's log that shows a span of one of the methods was recorded. */
  record Marker(String method, Pattern pattern) {}

  /** The methods every agent times (Firebreak through rules/emoji-pipeline.yaml). */
  static final List<String[]> METHODS =
      List.of(
          new String[] {"com.acme.chat.render.EmojiRenderer", "expand"},
          new String[] {"com.acme.chat.render.EmojiPack", "lookup"},
          new String[] {"com.acme.chat.pipeline.MessageSerializer", "serialize"},
          new String[] {"com.acme.chat.pipeline.Pipeline", "process"});

  /**
   * The configurations of a default run, in the order they are measured. {@code empty-agent} is
   * measured at start-up only: the floor of any agent's start-up cost. {@code noagent-again} is
   * {@code noagent} once more (the A/A control): its ratios to {@code noagent} are what the run's
   * noise alone makes of one configuration.
   */
  static final List<String> DEFAULT =
      List.of("noagent", "empty-agent", "firebreak", "otel", "elastic", "noagent-again");

  String jvmArgs(int port, boolean verify) {
    return String.join(" ", args(port, verify));
  }

  List<String> args(int port, boolean verify) {
    List<String> out = new ArrayList<>();
    for (String a : verify ? verifyJvmArgs : jvmArgs)
      out.add(a.replace("{port}", Integer.toString(port)));
    return out;
  }

  boolean needsPort() {
    return jvmArgs.stream().anyMatch(a -> a.contains("{port}"));
  }

  /**
   * Firebreak from {@code jar} with {@code rulesFile} and its metrics on the service's port ({@code
   * options}: more agent options after it), measured under load; the same flags for the
   * verification run.
   */
  private static Configuration firebreak(
      String name, String label, Path jar, Path rulesFile, String options, Check check) {
    List<String> args =
        List.of("-javaagent:" + jar + "=rules=" + rulesFile + ",port={port}" + options);
    return new Configuration(name, label, args, args, check, List.of(), true);
  }

  /** Every configuration this harness knows, by name. */
  static Map<String, Configuration> all(
      Path firebreakAgent,
      Path rules,
      Path otelAgent,
      Path elasticAgent,
      Path emptyAgent,
      Path emptyTransformer,
      Path noTargetRules,
      Path autoFenceRules,
      Path firebreakBefore) {
    Map<String, Configuration> m = new LinkedHashMap<>();
    m.put(
        "noagent",
        new Configuration(
            "noagent", "no agent", List.of(), List.of(), Check.NONE, List.of(), true));
    m.put(
        "noagent-again",
        new Configuration(
            "noagent-again",
            "no agent, measured again (A/A control)",
            List.of(),
            List.of(),
            Check.NONE,
            List.of(),
            true));
    m.put(
        "empty-agent",
        new Configuration(
            "empty-agent",
            "an empty Java agent (premain returns at once; start-up only)",
            List.of("-javaagent:" + emptyAgent),
            List.of(),
            Check.NONE,
            List.of(),
            false));
    m.put(
        "empty-transformer",
        new Configuration(
            "empty-transformer",
            "an agent whose transformer changes nothing (the floor of watching from the first"
                + " call; start-up only)",
            List.of("-javaagent:" + emptyTransformer),
            List.of(),
            Check.NONE,
            List.of(),
            false));
    // Diagnostics: what an agent costs under load before it instruments anything
    m.put(
        "empty-agent-load",
        new Configuration(
            "empty-agent-load",
            "an empty Java agent, under load",
            List.of("-javaagent:" + emptyAgent),
            List.of(),
            Check.NONE,
            List.of(),
            true));
    m.put(
        "firebreak-idle",
        firebreak(
            "firebreak-idle",
            "Firebreak, rules naming no class of the service",
            firebreakAgent,
            noTargetRules,
            "",
            Check.NONE));

    m.put(
        "firebreak",
        firebreak(
            "firebreak",
            "Firebreak (rules/emoji-pipeline.yaml)",
            firebreakAgent,
            rules,
            "",
            Check.FIREBREAK_METRICS));
    // An A/B of two agent jars in one run (--firebreak-before): the same rules, the other jar
    if (firebreakBefore != null) {
      m.put(
          "firebreak-before",
          firebreak(
              "firebreak-before",
              "Firebreak, the --firebreak-before jar (rules/emoji-pipeline.yaml)",
              firebreakBefore,
              rules,
              "",
              Check.FIREBREAK_METRICS));
    }
    // The auto-fence's net over the whole service (rules/auto-fence.yaml, next to --rules), no
    // target: what the net costs while nothing runs away
    m.put(
        "firebreak-auto-fence",
        firebreak(
            "firebreak-auto-fence",
            "Firebreak, only the auto-fence's net (rules/auto-fence.yaml)",
            firebreakAgent,
            autoFenceRules,
            "",
            Check.NONE));
    // Diagnostic: the opt-in startup=lazy, which lets the service start first and instruments
    // afterwards (calls made meanwhile are not watched), against the default startup=watched.
    m.put(
        "firebreak-lazy",
        firebreak(
            "firebreak-lazy",
            "Firebreak, startup=lazy",
            firebreakAgent,
            rules,
            ",startup=lazy",
            Check.FIREBREAK_METRICS));

    List<String> otel = PeerAgents.otel(otelAgent, "chat", METHODS);
    List<Marker> otelMarkers = new ArrayList<>();
    for (String[] cm : METHODS) {
      String span = simpleName(cm[0]) + "." + cm[1];
      // LoggingSpanExporter: "... LoggingSpanExporter - 'EmojiRenderer.expand' : <trace> <span>
      // INTERNAL [tracer: io.opentelemetry.methods:..."
      otelMarkers.add(
          new Marker(
              cm[0] + "." + cm[1],
              Pattern.compile(
                  "'"
                      + Pattern.quote(span)
                      + "' : \\p{XDigit}+ \\p{XDigit}+ INTERNAL \\[tracer: io\\.opentelemetry\\.methods")));
    }
    m.put(
        "otel",
        new Configuration(
            "otel",
            "OpenTelemetry agent 2.31.0 (methods.include, exporters none)",
            otel,
            replace(otel, "-Dotel.traces.exporter=none", "-Dotel.traces.exporter=console"),
            Check.LOG_MARKERS,
            otelMarkers,
            true));
    List<String> otelOnly = new ArrayList<>(otel);
    otelOnly.add("-Dotel.instrumentation.common.default-enabled=false");
    otelOnly.add("-Dotel.instrumentation.methods.enabled=true");
    m.put(
        "otel-methods-only",
        new Configuration(
            "otel-methods-only",
            "OpenTelemetry agent 2.31.0, only the methods instrumentation",
            otelOnly,
            replace(otelOnly, "-Dotel.traces.exporter=none", "-Dotel.traces.exporter=console"),
            Check.LOG_MARKERS,
            otelMarkers,
            true));

    List<String> elastic = PeerAgents.elastic(elasticAgent, "chat", "com.acme.chat", METHODS);
    List<Marker> elasticMarkers = new ArrayList<>();
    for (String[] cm : METHODS) {
      String span = simpleName(cm[0]) + "#" + cm[1];
      // DEBUG log of the tracer: "endSpan 'EmojiRenderer#expand' 00-..." (or endTransaction for a
      // root, like Pipeline#process)
      elasticMarkers.add(
          new Marker(
              cm[0] + "." + cm[1],
              Pattern.compile("end(Span|Transaction) '" + Pattern.quote(span) + "' ")));
    }
    m.put(
        "elastic",
        new Configuration(
            "elastic",
            "Elastic APM agent 1.55.1 (trace_methods, disable_send)",
            elastic,
            replace(elastic, "-Delastic.apm.log_level=ERROR", "-Delastic.apm.log_level=DEBUG"),
            Check.LOG_MARKERS,
            elasticMarkers,
            true));
    List<String> elasticOnly = new ArrayList<>(elastic);
    elasticOnly.add("-Delastic.apm.enable_instrumentations=method-matching");
    m.put(
        "elastic-methods-only",
        new Configuration(
            "elastic-methods-only",
            "Elastic APM agent 1.55.1, only the trace_methods instrumentation",
            elasticOnly,
            replace(elasticOnly, "-Delastic.apm.log_level=ERROR", "-Delastic.apm.log_level=DEBUG"),
            Check.LOG_MARKERS,
            elasticMarkers,
            true));
    return m;
  }

  private static List<String> replace(List<String> args, String from, String to) {
    List<String> out = new ArrayList<>();
    for (String a : args) out.add(a.equals(from) ? to : a);
    if (!out.contains(to)) throw new IllegalStateException(from + " not in " + args);
    return out;
  }

  private static String simpleName(String className) {
    return className.substring(className.lastIndexOf('.') + 1);
  }
}
