package dev.firebreak.benchmarks.process;

import dev.firebreak.benchmarks.Json;
import dev.firebreak.benchmarks.process.Children.LoadResult;
import dev.firebreak.benchmarks.process.Children.Service;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Issue 6, part 2: the sample chat service measured as a whole process under the same load, without
 * an agent, with Firebreak, with the OpenTelemetry Java agent and with the Elastic APM agent (the
 * peers timing the same four methods, sending nothing), and once more without an agent (the A/A
 * control: what the run's noise alone makes of the same configuration). One run, from the
 * repository root:
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.process.ProcessComparison \
 *     [--rate 300] [--warmup 30s] [--measure 30s] [--repeats 3] [--startups 10]
 *     [--configs noagent,empty-agent,firebreak,otel,elastic,noagent-again]
 * </pre>
 *
 * <p>For each configuration: the JVM start-up time (fork to the first {@code /health} 200, median
 * of {@code --startups} starts interleaved across the configurations, beside an empty agent that
 * shows what {@code -javaagent} alone costs); then {@code --repeats} rounds, the configurations
 * interleaved, each in a fresh service: a warm-up phase and a measured phase of open-loop load at
 * the same rate, each run by its own load-generator JVM ({@code firebreak-sample-app.jar load
 * --json}), figures the medians of the rounds: p50 and p99 latency from the load generator (and
 * pooled: p50, p99 and p99.9 of all rounds' measured messages in one histogram, merged from each
 * round's {@code --histogram-log}), and, between the start of the measured sending and the end of
 * the load generator, the service's CPU time ({@code /proc/PID/stat} utime + stime) and the bytes
 * its JVM allocated ({@code GET /debug/vm}). Every figure is also given as a ratio to the
 * configuration without an agent; the ratios of {@code noagent-again} (no agent either) show how
 * large a difference the run's noise makes by itself. Before measuring, each agent is checked in an
 * unmeasured run to really instrument the four methods (see {@link Configuration.Check}).
 *
 * <p>The report (markdown) goes to stdout, progress to stderr, the full result to {@code
 * benchmarks/target/process/process-comparison-STAMP.json}, and every child's output to {@code
 * benchmarks/target/process/STAMP/}.
 */
public final class ProcessComparison {
  private ProcessComparison() {}

  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  record Options(
      double rate,
      Duration warmup,
      Duration measure,
      int startups,
      int repeats,
      List<String> configs,
      Path appJar,
      Path firebreakAgent,
      Path rules,
      Path peerAgents,
      Path out,
      String heap,
      String minHeap,
      boolean verify,
      List<String> jvmArgs,
      Path firebreakBefore) {

    /** -Xmx, and -Xms when --min-heap is given. */
    List<String> heapFlags() {
      return minHeap.isEmpty() ? List.of("-Xmx" + heap) : List.of("-Xms" + minHeap, "-Xmx" + heap);
    }
  }

  /** The rules of {@code firebreak-idle}: one target, a class the sample app does not have. */
  static final String NO_TARGET_RULES =
      String.join(
          "\n",
          "version: 1",
          "targets:",
          "  - name: nothing",
          "    class: com.acme.chat.NoSuchClass",
          "    method: never",
          "    rules:",
          "      - {name: never-deep, depth: 32, action: alert}",
          "");

  private static final String USAGE =
      String.join(
          "\n",
          "usage: java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.process.ProcessComparison [options]",
          "  (run from the repository root; paths below are relative to it)",
          "  --rate 300                 messages a second, warm-up and measured phase alike",
          "  --warmup 30s               warm-up phase (not measured; 0 to skip)",
          "  --measure 30s              measured phase",
          "  --repeats 3                load rounds per configuration, interleaved; figures are their medians,",
          "                             and percentiles pooled over all rounds' messages",
          "  --startups 10              start-ups per configuration for the median (0 to skip)",
          "  --configs noagent,empty-agent,firebreak,otel,elastic,noagent-again",
          "                             also known: firebreak-lazy (startup=lazy), firebreak-idle (rules naming no",
          "                             class of the service), empty-agent-load (the empty agent under load),",
          "                             empty-transformer (start-up only: a transformer that changes nothing,",
          "                             the floor of an agent that watches from the first call),",
          "                             otel-methods-only, elastic-methods-only",
          "                             (empty-agent: start-up only, the floor of any -javaagent;",
          "                             noagent-again: no agent, measured again, the A/A control: its",
          "                             ratios to noagent are the run's noise)",
          "  --app-jar sample-app/target/firebreak-sample-app.jar",
          "  --firebreak-agent agent/target/firebreak-agent.jar",
          "  --rules rules/emoji-pipeline.yaml",
          "  --peer-agents benchmarks/target/peer-agents",
          "  --out benchmarks/target/process",
          "  --heap 512m                -Xmx of the service",
          "  --min-heap SIZE            -Xms of the service (default: none, the JVM's own); with --min-heap 512m",
          "                             no configuration's heap can shrink (G1 shrinks it after a concurrent",
          "                             cycle, which an agent's class loading can start: a smaller young",
          "                             generation, shorter and more frequent pauses)",
          "  --skip-verify              do not check first that each agent instruments the four methods",
          "  --firebreak-before PATH    another Firebreak agent jar (e.g. main's, before a change): adds the",
          "                             configuration firebreak-before, the same rules with that jar, to name",
          "                             in --configs beside firebreak (an A/B of two jars in one run)",
          "  --jvm-arg ARG              (repeatable) one more JVM flag for every service under load (not the",
          "                             start-ups or the verification), e.g. a profiler; {name} becomes the",
          "                             round's name (firebreak-2) and {dir} the run's log directory:",
          "                             --jvm-arg=-XX:StartFlightRecording=filename={dir}/{name}.jfr,settings=profile");

  public static void main(String[] argv) {
    int code;
    try {
      code = run(argv);
    } catch (UsageException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(USAGE);
      code = 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      code = 1;
    } catch (IOException | RuntimeException e) {
      System.err.println("error: " + e.getMessage());
      code = 1;
    }
    System.exit(code);
  }

  // ---------------------------------------------------------------- options

  static Options parse(String[] argv) {
    Map<String, String> v = new LinkedHashMap<>();
    boolean verify = true;
    List<String> jvmArgs = new ArrayList<>();
    List<String> args = Arrays.asList(argv);
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println(USAGE);
        System.exit(0);
      }
      if (a.equals("--skip-verify")) {
        verify = false;
        continue;
      }
      if (!a.startsWith("--")) throw new UsageException("unexpected argument " + a);
      String key;
      String value;
      int eq = a.indexOf('=');
      if (eq > 0) {
        key = a.substring(2, eq);
        value = a.substring(eq + 1);
      } else {
        key = a.substring(2);
        if (i + 1 >= args.size()) throw new UsageException("--" + key + " needs a value");
        value = args.get(++i);
      }
      if (key.equals("jvm-arg")) {
        jvmArgs.add(value); // repeatable
        continue;
      }
      v.put(key, value);
    }
    List<String> known =
        List.of(
            "rate",
            "warmup",
            "measure",
            "startups",
            "repeats",
            "configs",
            "app-jar",
            "firebreak-agent",
            "rules",
            "peer-agents",
            "out",
            "heap",
            "min-heap",
            "firebreak-before");
    for (String k : v.keySet())
      if (!known.contains(k)) throw new UsageException("unknown option --" + k);
    double rate;
    int startups;
    int repeats;
    try {
      rate = Double.parseDouble(v.getOrDefault("rate", "300"));
      startups = Integer.parseInt(v.getOrDefault("startups", "10"));
      repeats = Integer.parseInt(v.getOrDefault("repeats", "3"));
    } catch (NumberFormatException e) {
      throw new UsageException("--rate, --startups and --repeats take numbers: " + e.getMessage());
    }
    Duration warmup = duration(v.getOrDefault("warmup", "30s"));
    Duration measure = duration(v.getOrDefault("measure", "30s"));
    if (rate <= 0
        || startups < 0
        || repeats < 1
        || warmup.isNegative()
        || measure.isZero()
        || measure.isNegative()) {
      throw new UsageException(
          "--rate and --measure must be positive, --repeats at least 1, --warmup and --startups at least 0");
    }
    List<String> configs = new ArrayList<>();
    for (String c : v.getOrDefault("configs", String.join(",", Configuration.DEFAULT)).split(",")) {
      if (!c.isBlank()) configs.add(c.trim());
    }
    if (configs.isEmpty()) throw new UsageException("--configs names no configuration");
    return new Options(
        rate,
        warmup,
        measure,
        startups,
        repeats,
        configs,
        path(v.getOrDefault("app-jar", "sample-app/target/firebreak-sample-app.jar")),
        path(v.getOrDefault("firebreak-agent", "agent/target/firebreak-agent.jar")),
        path(v.getOrDefault("rules", "rules/emoji-pipeline.yaml")),
        path(v.getOrDefault("peer-agents", "benchmarks/target/peer-agents")),
        path(v.getOrDefault("out", "benchmarks/target/process")),
        v.getOrDefault("heap", "512m"),
        v.getOrDefault("min-heap", ""),
        verify,
        List.copyOf(jvmArgs),
        v.containsKey("firebreak-before") ? path(v.get("firebreak-before")) : null);
  }

  private static Path path(String p) {
    return Path.of(p).toAbsolutePath().normalize();
  }

  /** {@code 250ms}, {@code 30s}, {@code 2m}; a bare number is seconds. */
  static Duration duration(String s) {
    String t = s.trim();
    try {
      if (t.endsWith("ms"))
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      if (t.endsWith("s"))
        return Duration.ofMillis(
            Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      if (t.endsWith("m"))
        return Duration.ofMillis(
            Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000));
      return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
    } catch (NumberFormatException e) {
      throw new UsageException("expected a duration like 500ms, 10s or 2m, got '" + s + "'");
    }
  }

  // ---------------------------------------------------------------- the run

  /** One load round of one configuration: a fresh service, warm-up, measured phase. */
  static final class Round {
    Map<String, Object> warmup;
    Map<String, Object> measured;
    double windowS = Double.NaN;
    double cpuS = Double.NaN;
    double cpuSJvm = Double.NaN;
    double allocatedBytes = Double.NaN;
    double gcCount = Double.NaN;
    double gcTimeMs = Double.NaN;
    double threads = Double.NaN;
    Map<String, Long> firebreakCalls;

    /** CPU seconds of the live threads by group (ProcStat.GROUPS) over the window. */
    final Map<String, Double> cpuByGroupS = new LinkedHashMap<>();

    int serviceExit;

    /**
     * The measured phase's latencies (microseconds), read back from the generator's histogram log.
     */
    Histogram latency;

    Path histogramLog;

    double p50() {
      return Json.number(measured, "p50_ms");
    }

    double p99() {
      return Json.number(measured, "p99_ms");
    }

    double p999() {
      return Latencies.ms(latency, 99.9);
    }

    double allocatedMb() {
      return allocatedBytes / 1e6;
    }
  }

  /** What was measured for one configuration: its start-ups and its load rounds. */
  static final class Result {
    final Configuration config;
    final List<Double> startupMs = new ArrayList<>();
    final List<Round> rounds = new ArrayList<>();
    String jvmArgs = "";

    Result(Configuration config) {
      this.config = config;
    }

    double startupMedianMs() {
      return ProcessComparison.median(startupMs);
    }

    /** The median over the load rounds of one figure (NaN without rounds). */
    double median(java.util.function.ToDoubleFunction<Round> figure) {
      List<Double> xs = new ArrayList<>();
      for (Round r : rounds) {
        double x = figure.applyAsDouble(r);
        if (!Double.isNaN(x)) xs.add(x);
      }
      return ProcessComparison.median(xs);
    }

    double p50() {
      return median(Round::p50);
    }

    double p99() {
      return median(Round::p99);
    }

    double cpuS() {
      return median(r -> r.cpuS);
    }

    double allocatedMb() {
      return median(Round::allocatedMb);
    }

    /** All rounds' measured messages in one histogram (microseconds; empty without rounds). */
    Histogram pooled() {
      List<Histogram> hs = new ArrayList<>();
      for (Round r : rounds) if (r.latency != null) hs.add(r.latency);
      return Latencies.pool(hs);
    }

    double pooledP50() {
      return Latencies.ms(pooled(), 50);
    }

    double pooledP99() {
      return Latencies.ms(pooled(), 99);
    }

    double pooledP999() {
      return Latencies.ms(pooled(), 99.9);
    }
  }

  private record Snapshot(
      long nanos, long cpuNanos, Map<String, Long> cpuByGroup, Map<String, Object> vm) {
    static Snapshot of(Service s) throws IOException {
      long t = System.nanoTime();
      long cpu = s.cpuNanos();
      Map<String, Long> groups = Children.ProcStat.cpuNanosByGroup(s.process);
      return new Snapshot(t, cpu, groups, s.vm());
    }
  }

  private static final long T0 = System.nanoTime();

  private static void progress(String fmt, Object... args) {
    System.err.printf(
        Locale.ROOT,
        "[%6.1f s] %s%n",
        (System.nanoTime() - T0) / 1e9,
        String.format(Locale.ROOT, fmt, args));
  }

  static int run(String[] argv) throws IOException, InterruptedException {
    Options o = parse(argv);
    Path otelAgent = o.peerAgents().resolve("opentelemetry-javaagent.jar");
    Path elasticAgent = o.peerAgents().resolve("elastic-apm-agent.jar");
    Instant started = Instant.now();
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
    Path dir = o.out().resolve(stamp);
    Files.createDirectories(dir);
    Path emptyAgent = EmptyAgent.writeJar(dir.resolve("empty-agent.jar"));
    Path emptyTransformer = EmptyAgent.writeTransformerJar(dir.resolve("empty-transformer.jar"));
    Path noTargetRules = Files.writeString(dir.resolve("rules-no-target.yaml"), NO_TARGET_RULES);
    Map<String, Configuration> known =
        Configuration.all(
            o.firebreakAgent(),
            o.rules(),
            otelAgent,
            elasticAgent,
            emptyAgent,
            emptyTransformer,
            noTargetRules,
            o.rules().resolveSibling("auto-fence.yaml"),
            o.firebreakBefore());
    List<Configuration> configs = new ArrayList<>();
    for (String name : o.configs()) {
      Configuration c = known.get(name);
      if (c == null)
        throw new UsageException(
            "unknown configuration " + name + "; known: " + String.join(", ", known.keySet()));
      if (configs.contains(c)) throw new UsageException("configuration " + name + " named twice");
      configs.add(c);
    }
    requireFile(o.appJar(), "the sample app jar (mvn -B -q -pl sample-app package -DskipTests)");
    for (Configuration c : configs) {
      if (c.name().startsWith("firebreak")) {
        requireFile(
            o.firebreakAgent(),
            "the Firebreak agent jar (mvn -B -q -pl agent package -DskipTests)");
        requireFile(o.rules(), "the rules file");
      }
      if (c.name().equals("firebreak-before"))
        requireFile(o.firebreakBefore(), "the --firebreak-before agent jar");
      if (c.name().startsWith("otel"))
        requireFile(otelAgent, "the OpenTelemetry agent (mvn -B -q -pl benchmarks package)");
      if (c.name().startsWith("elastic"))
        requireFile(elasticAgent, "the Elastic APM agent (mvn -B -q -pl benchmarks package)");
    }

    String java = Children.java();

    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("date", started.toString());
    machine.put("cpu_model", Machine.cpuModel());
    machine.put("cpus", Runtime.getRuntime().availableProcessors());
    machine.put("clocksource", Machine.clockSource());
    machine.put("java", java);
    machine.put("java_version", Machine.javaVersion(java));
    machine.put("loadavg_start", Machine.loadAverage());

    StringBuilder report = new StringBuilder();
    report.append("## Process-level comparison (sample app)\n\n");
    // the command first: a summary kept in benchmarks/results/ must say how to make it again
    report
        .append("    command      java -cp benchmarks/target/benchmarks.jar ")
        .append(ProcessComparison.class.getName());
    for (String a : argv) report.append(' ').append(a);
    report.append('\n');
    report.append("    date         ").append(machine.get("date")).append('\n');
    report
        .append("    cpu          ")
        .append(machine.get("cpu_model"))
        .append(" (")
        .append(machine.get("cpus"))
        .append(" CPUs)\n");
    report.append("    clocksource  ").append(machine.get("clocksource")).append('\n');
    for (String line : ((String) machine.get("java_version")).split("\n"))
      report.append("    java         ").append(line).append('\n');
    report
        .append("    load avg     ")
        .append(machine.get("loadavg_start"))
        .append(" (at the start)\n");
    System.out.print(report);
    System.out.flush();
    progress(
        "configurations %s; rate %s msg/s, warm-up %s, measured %s, %d load rounds and %d start-ups each; logs in %s",
        o.configs(),
        fmt(o.rate(), 0),
        o.warmup(),
        o.measure(),
        o.repeats(),
        o.startups(),
        rel(dir));

    Map<String, Object> verification = new LinkedHashMap<>();
    if (o.verify()) {
      for (Configuration c : configs) {
        if (c.check() == Configuration.Check.NONE) continue;
        Map<String, Object> v = verify(c, o, dir);
        verification.put(c.name(), v);
        if (!Boolean.TRUE.equals(v.get("ok"))) {
          System.err.println(
              "error: "
                  + c.name()
                  + " does not instrument all four methods: "
                  + v.get("counts")
                  + " (see "
                  + v.get("logs")
                  + ")");
          return 1;
        }
      }
    }

    List<Result> results = new ArrayList<>();
    for (Configuration c : configs) results.add(new Result(c));

    // start-up: round r starts with configuration r (mod n), so no configuration is always first
    for (int r = 0; r < o.startups(); r++) {
      for (int k = 0; k < results.size(); k++) {
        Result res = results.get((r + k) % results.size());
        Configuration c = res.config;
        int port = c.needsPort() ? Http.freePort() : 0;
        if (!c.underLoad()) res.jvmArgs = c.jvmArgs(port, false);
        Service s =
            Service.start(
                o.heapFlags(),
                c.args(port, false),
                o.appJar(),
                dir.resolve("startup-" + c.name() + "-" + (r + 1)));
        Duration d;
        try {
          d = s.awaitHealthy(Duration.ofMinutes(2));
        } finally {
          s.stop();
        }
        res.startupMs.add(d.toNanos() / 1e6);
        progress("start-up %d/%d %-20s %7.0f ms", r + 1, o.startups(), c.name(), d.toNanos() / 1e6);
      }
    }

    // under load: round r starts with configuration r (mod n), like the start-ups
    List<Result> loaded = results.stream().filter(r -> r.config.underLoad()).toList();
    for (int r = 0; r < o.repeats(); r++) {
      for (int k = 0; k < loaded.size(); k++)
        measureUnderLoad(loaded.get((r + k) % loaded.size()), o, dir, r);
    }

    machine.put("loadavg_end", Machine.loadAverage());
    Result base =
        results.stream().filter(r -> r.config.name().equals("noagent")).findFirst().orElse(null);
    String table = table(results, base, o, machine);
    System.out.print(table);
    System.out.flush();

    Path json = o.out().resolve("process-comparison-" + stamp + ".json");
    Files.writeString(
        json,
        Json.write(resultJson(o, machine, verification, results, base, dir)),
        StandardCharsets.UTF_8);
    System.out.println();
    System.out.println("JSON: " + rel(json) + "; child logs: " + rel(dir));
    progress("done");
    return 0;
  }

  private static void requireFile(Path p, String what) {
    if (!Files.isRegularFile(p)) throw new UsageException("missing " + what + ": " + p);
  }

  /** A short unmeasured run with the agent's span output on: every method must show up. */
  static Map<String, Object> verify(Configuration c, Options o, Path dir)
      throws IOException, InterruptedException {
    int port = c.needsPort() ? Http.freePort() : 0;
    Path base = dir.resolve("verify-" + c.name());
    Service s = Service.start(o.heapFlags(), c.args(port, true), o.appJar(), base);
    Map<String, Long> counts;
    String how;
    try {
      s.awaitHealthy(Duration.ofMinutes(2));
      Children.load(
          o.appJar(),
          s.port,
          50,
          Duration.ZERO,
          Duration.ofSeconds(2),
          dir.resolve("verify-" + c.name() + "-load"),
          false,
          null,
          null);
      if (c.check() == Configuration.Check.FIREBREAK_METRICS) {
        counts = firebreakCalls(port);
        how = "firebreak_calls_total on http://127.0.0.1:" + port + "/metrics, summed per method";
      } else {
        s.stop();
        counts = countMarkers(c, s.out, s.err);
        how =
            "span lines in the service's log with "
                + String.join(
                    " ", c.verifyJvmArgs().stream().filter(a -> !c.jvmArgs().contains(a)).toList());
      }
    } finally {
      s.stop();
    }
    boolean ok =
        counts.size() == Configuration.METHODS.size()
            && counts.values().stream().allMatch(n -> n > 0);
    progress("verify %-20s %s %s", c.name(), ok ? "ok" : "FAILED", counts);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("ok", ok);
    v.put("how", how);
    v.put("counts", counts);
    v.put("jvm_args", c.jvmArgs(port, true));
    v.put("logs", rel(s.out) + ", " + rel(s.err));
    return v;
  }

  private static Map<String, Long> countMarkers(Configuration c, Path... logs) throws IOException {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (Configuration.Marker m : c.markers()) counts.put(m.method(), 0L);
    for (Path log : logs) {
      if (!Files.isRegularFile(log)) continue;
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        for (Configuration.Marker m : c.markers()) {
          if (m.pattern().matcher(line).find()) counts.merge(m.method(), 1L, Long::sum);
        }
      }
    }
    return counts;
  }

  private static final Pattern CALLS =
      Pattern.compile("^firebreak_calls_total\\{(.*)\\}\\s+(\\S+)");
  private static final Pattern METHOD_LABEL = Pattern.compile("method=\"([^\"(]*)\\(");

  /**
   * Calls counted by Firebreak per method (class.method of the four), from its Prometheus endpoint.
   */
  static Map<String, Long> firebreakCalls(int metricsPort) throws IOException {
    Http.Response r = Http.get(metricsPort, "/metrics", 10_000);
    if (r.status() != 200) throw new IOException("Firebreak /metrics answered " + r.status());
    Map<String, Long> counts = new LinkedHashMap<>();
    for (String[] cm : Configuration.METHODS) counts.put(cm[0] + "." + cm[1], 0L);
    for (String line : r.body().split("\n")) {
      Matcher m = CALLS.matcher(line);
      if (!m.find()) continue;
      Matcher method = METHOD_LABEL.matcher(m.group(1));
      if (!method.find()) continue;
      for (String[] cm : Configuration.METHODS) {
        if (cm[1].equals(method.group(1)))
          counts.merge(cm[0] + "." + cm[1], (long) Double.parseDouble(m.group(2)), Long::sum);
      }
    }
    return counts;
  }

  /** A fresh service: warm-up load, then the measured load with snapshots around it. */
  static void measureUnderLoad(Result res, Options o, Path dir, int round)
      throws IOException, InterruptedException {
    Configuration c = res.config;
    int port = c.needsPort() ? Http.freePort() : 0;
    res.jvmArgs = c.jvmArgs(port, false);
    Round rd = new Round();
    res.rounds.add(rd);
    String name = c.name() + "-" + (round + 1);
    List<String> args = new ArrayList<>(c.args(port, false));
    for (String a : o.jvmArgs())
      args.add(a.replace("{name}", name).replace("{dir}", dir.toString()));
    Service s = Service.start(o.heapFlags(), args, o.appJar(), dir.resolve("load-" + name));
    try {
      Duration up = s.awaitHealthy(Duration.ofMinutes(2));
      progress(
          "load     %-20s service up in %.0f ms (pid %d, port %d)",
          name, up.toNanos() / 1e6, s.process.pid(), s.port);
      AtomicReference<Snapshot> before = new AtomicReference<>();
      AtomicReference<Snapshot> afterRef = new AtomicReference<>();
      LoadResult m =
          Children.load(
              o.appJar(),
              s.port,
              o.rate(),
              o.warmup(),
              o.measure(),
              dir.resolve("load-" + name + "-generator"),
              true,
              () -> before.set(snapshot(s)),
              () -> afterRef.set(snapshot(s)));
      rd.warmup = m.warmup();
      if (m.warmup() != null) progress("load     %-20s warm-up  %s", name, describe(m.warmup()));
      Snapshot b = before.get();
      Snapshot after = afterRef.get();
      rd.measured = m.summary();
      rd.histogramLog = m.histogramLog();
      rd.latency = Latencies.read(m.histogramLog());
      if (rd.latency.getTotalCount() != (long) Json.number(rd.measured, "delivered")) {
        throw new IOException(
            rel(m.histogramLog())
                + " holds "
                + rd.latency.getTotalCount()
                + " latencies, the load generator's JSON "
                + "says "
                + fmt(Json.number(rd.measured, "delivered"), 0)
                + " delivered");
      }
      rd.windowS = (after.nanos() - b.nanos()) / 1e9;
      rd.cpuS = (after.cpuNanos() - b.cpuNanos()) / 1e9;
      rd.cpuSJvm = delta(b.vm(), after.vm(), "process_cpu_ns") / 1e9;
      for (Map.Entry<String, Long> g : after.cpuByGroup().entrySet()) {
        rd.cpuByGroupS.put(
            g.getKey(), (g.getValue() - b.cpuByGroup().getOrDefault(g.getKey(), 0L)) / 1e9);
      }
      rd.allocatedBytes = delta(b.vm(), after.vm(), "allocated_bytes");
      rd.gcCount = delta(b.vm(), after.vm(), "gc_count");
      rd.gcTimeMs = delta(b.vm(), after.vm(), "gc_time_ms");
      rd.threads = Json.number(after.vm(), "threads");
      if (c.check() == Configuration.Check.FIREBREAK_METRICS)
        rd.firebreakCalls = firebreakCalls(port);
      progress(
          "load     %-20s measured %s, p99.9 %.2f ms; CPU %.2f s in %.1f s, allocated %.1f MB",
          name, describe(m.summary()), rd.p999(), rd.cpuS, rd.windowS, rd.allocatedMb());
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      rd.serviceExit = s.stop();
    }
  }

  private static Snapshot snapshot(Service s) {
    try {
      return Snapshot.of(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static double delta(Map<String, Object> before, Map<String, Object> after, String key) {
    double a = Json.number(before, key);
    double b = Json.number(after, key);
    return a < 0 || b < 0 ? Double.NaN : b - a;
  }

  private static String describe(Map<String, Object> load) {
    return String.format(
        Locale.ROOT,
        "sent %.0f, delivered %.0f (%.2f %%), p50 %.2f ms, p99 %.2f ms, max %.2f ms",
        Json.number(load, "sent"),
        Json.number(load, "delivered"),
        Json.number(load, "success_pct"),
        Json.number(load, "p50_ms"),
        Json.number(load, "p99_ms"),
        Json.number(load, "max_ms"));
  }

  // ---------------------------------------------------------------- output

  static String table(List<Result> results, Result base, Options o, Map<String, Object> machine) {
    Result empty =
        results.stream()
            .filter(r -> r.config.name().equals("empty-agent"))
            .findFirst()
            .orElse(null);
    StringBuilder t = new StringBuilder("\n");
    t.append(
        String.format(
            Locale.ROOT,
            "Open-loop load %s msg/s: %d rounds per configuration, interleaved, each a fresh service with "
                + "a warm-up of %s, then a measured %s (one load-generator JVM for both phases); p50, p99, CPU and allocated are "
                + "the medians of the rounds; the pooled percentiles are of all rounds' measured messages in one histogram (the "
                + "rounds' load-generator histograms merged, so every message counts once, whichever round it was in); start-up "
                + "the median of %d start-ups, interleaved. (x) = ratio to no agent.%n%n",
            fmt(o.rate(), 0),
            o.repeats(),
            human(o.warmup()),
            human(o.measure()),
            o.startups()));
    t.append(
        "| configuration | startup ms | startup beyond an empty agent | p50 ms | p99 ms "
            + "| p50 ms (pooled) | p99 ms (pooled) | p99.9 ms (pooled) | CPU s | allocated MB |\n");
    t.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Result r : results) {
      t.append("| ")
          .append(r.config.label())
          .append(" | ")
          .append(cell(r.startupMedianMs(), base == null ? Double.NaN : base.startupMedianMs(), 0))
          .append(" | ")
          .append(beyond(r, empty, base))
          .append(" | ")
          .append(cell(r.p50(), base == null ? Double.NaN : base.p50(), 2))
          .append(" | ")
          .append(cell(r.p99(), base == null ? Double.NaN : base.p99(), 2))
          .append(" | ")
          .append(cell(r.pooledP50(), base == null ? Double.NaN : base.pooledP50(), 2))
          .append(" | ")
          .append(cell(r.pooledP99(), base == null ? Double.NaN : base.pooledP99(), 2))
          .append(" | ")
          .append(cell(r.pooledP999(), base == null ? Double.NaN : base.pooledP999(), 2))
          .append(" | ")
          .append(cell(r.cpuS(), base == null ? Double.NaN : base.cpuS(), 2))
          .append(" | ")
          .append(cell(r.allocatedMb(), base == null ? Double.NaN : base.allocatedMb(), 1))
          .append(" |\n");
    }
    Result again =
        results.stream().filter(r -> r.config.name().equals(AA_CONTROL)).findFirst().orElse(null);
    String aa = aaControl(base, again);
    if (aa != null) t.append('\n').append(aa).append('\n');
    t.append("\nEvery round (in the order run within each configuration):\n\n");
    t.append(
        "| configuration | delivered / sent | p50 ms | p99 ms | p99.9 ms | CPU s (JVM's own) | allocated MB | GCs (ms) | threads |\n");
    t.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      if (r.rounds.isEmpty()) continue;
      List<String> delivered = new ArrayList<>();
      List<String> p50 = new ArrayList<>();
      List<String> p99 = new ArrayList<>();
      List<String> p999 = new ArrayList<>();
      List<String> cpu = new ArrayList<>();
      List<String> alloc = new ArrayList<>();
      List<String> gcs = new ArrayList<>();
      List<String> threads = new ArrayList<>();
      for (Round rd : r.rounds) {
        delivered.add(
            fmt(Json.number(rd.measured, "delivered"), 0)
                + "/"
                + fmt(Json.number(rd.measured, "sent"), 0));
        p50.add(fmt(rd.p50(), 2));
        p99.add(fmt(rd.p99(), 2));
        p999.add(fmt(rd.p999(), 2));
        cpu.add(fmt(rd.cpuS, 2) + " (" + fmt(rd.cpuSJvm, 2) + ")");
        alloc.add(fmt(rd.allocatedMb(), 1));
        gcs.add(fmt(rd.gcCount, 0) + " (" + fmt(rd.gcTimeMs, 0) + ")");
        threads.add(fmt(rd.threads, 0));
      }
      t.append("| ")
          .append(r.config.label())
          .append(" | ")
          .append(String.join(", ", delivered))
          .append(" | ")
          .append(String.join(", ", p50))
          .append(" | ")
          .append(String.join(", ", p99))
          .append(" | ")
          .append(String.join(", ", p999))
          .append(" | ")
          .append(String.join(", ", cpu))
          .append(" | ")
          .append(String.join(", ", alloc))
          .append(" | ")
          .append(String.join(", ", gcs))
          .append(" | ")
          .append(String.join(", ", threads))
          .append(" |\n");
    }
    t.append(
        "\nCPU s of the service's threads in the measured window, by thread (median of the rounds; live threads only,"
            + " from /proc/PID/task: the agent's own threads by name, the JIT compilers, GC and VM threads, and the rest):\n\n");
    t.append(
        "| configuration | application | JIT compilers | GC and VM | the agent's own threads |\n");
    t.append("| --- | ---: | ---: | ---: | ---: |\n");
    for (Result r : results) {
      if (r.rounds.isEmpty()) continue;
      t.append("| ").append(r.config.label());
      for (String g : Children.ProcStat.GROUPS) {
        t.append(" | ").append(fmt(r.median(rd -> rd.cpuByGroupS.getOrDefault(g, Double.NaN)), 2));
      }
      t.append(" |\n");
    }
    t.append(
        "\nThe application's CPU s by thread (median of the rounds; each ratio to no agent): the pipeline's"
            + " workers, the HTTP handler pool, the HTTP server's dispatcher, the other threads:\n\n");
    t.append("| configuration | workers | HTTP handlers | HTTP dispatcher | other |\n");
    t.append("| --- | ---: | ---: | ---: | ---: |\n");
    for (Result r : results) {
      if (r.rounds.isEmpty()) continue;
      t.append("| ").append(r.config.label());
      for (String g : Children.ProcStat.APPLICATION_PARTS) {
        double v = r.median(rd -> rd.cpuByGroupS.getOrDefault(g, Double.NaN));
        double b =
            base == null
                ? Double.NaN
                : base.median(rd -> rd.cpuByGroupS.getOrDefault(g, Double.NaN));
        t.append(" | ").append(fmt(v, 2));
        if (b > 0) t.append(" (").append(fmt(v / b, 2)).append("x)");
      }
      t.append(" |\n");
    }
    t.append("\nStart-ups, ms (in the order run):\n\n");
    for (Result r : results) {
      List<String> ups = new ArrayList<>();
      for (double d : r.startupMs) ups.add(fmt(d, 0));
      t.append("- ")
          .append(r.config.name())
          .append(": ")
          .append(String.join(", ", ups))
          .append('\n');
    }
    t.append("\nJVM flags of the service (besides ")
        .append(String.join(" ", o.heapFlags()))
        .append("; ports vary per start):\n\n");
    for (Result r : results) {
      t.append("- ")
          .append(r.config.name())
          .append(": ")
          .append(r.jvmArgs.isEmpty() ? "(none)" : "`" + relPaths(r.jvmArgs) + "`")
          .append('\n');
    }
    for (Result r : results) {
      for (int i = 0; i < r.rounds.size(); i++) {
        Round rd = r.rounds.get(i);
        double success = Json.number(rd.measured, "success_pct");
        if (!(success >= 99.9)) {
          t.append("\nWARNING: ")
              .append(r.config.name())
              .append(" round ")
              .append(i + 1)
              .append(" delivered only ")
              .append(fmt(success, 2))
              .append(
                  " % of the measured messages: the rate was not sustained, its latency figures are not comparable.\n");
        }
        if (rd.serviceExit != 0 && rd.serviceExit != 143) {
          t.append("\nWARNING: the ")
              .append(r.config.name())
              .append(" service of round ")
              .append(i + 1)
              .append(" exited with ")
              .append(rd.serviceExit)
              .append(".\n");
        }
      }
    }
    t.append("\nload avg at the end: ").append(machine.get("loadavg_end")).append('\n');
    return t.toString();
  }

  /**
   * The A/A control: no agent, measured again; its ratios to {@code noagent} are the run's noise.
   */
  static final String AA_CONTROL = "noagent-again";

  /**
   * The line under the main table: the A/A control's figures as ratios to no agent's, or null when
   * either is missing from the run.
   */
  static String aaControl(Result base, Result again) {
    if (base == null || again == null) return null;
    List<String> parts = new ArrayList<>();
    aaPart(parts, "start-up", again.startupMedianMs(), base.startupMedianMs());
    aaPart(parts, "p50", again.p50(), base.p50());
    aaPart(parts, "p99", again.p99(), base.p99());
    aaPart(parts, "pooled p50", again.pooledP50(), base.pooledP50());
    aaPart(parts, "pooled p99", again.pooledP99(), base.pooledP99());
    aaPart(parts, "pooled p99.9", again.pooledP999(), base.pooledP999());
    aaPart(parts, "CPU", again.cpuS(), base.cpuS());
    aaPart(parts, "allocated", again.allocatedMb(), base.allocatedMb());
    if (parts.isEmpty()) return null;
    return "A/A control: no agent against itself ("
        + AA_CONTROL
        + " / noagent): "
        + String.join(", ", parts)
        + " — differences of this size are noise in this run.";
  }

  private static void aaPart(List<String> parts, String what, double v, double base) {
    double ratio = Latencies.ratio(v, base);
    if (!Double.isNaN(ratio)) parts.add(what + " " + fmt(ratio, 2) + "x");
  }

  /** An agent's start-up beyond the empty agent's: ms, and as a share of the no-agent start-up. */
  private static String beyond(Result r, Result empty, Result base) {
    if (empty == null || r == empty || r.config.jvmArgs().isEmpty())
      return ""; // no agent at all (noagent, the A/A control)
    double ms = r.startupMedianMs() - empty.startupMedianMs();
    if (Double.isNaN(ms)) return "n/a";
    String s = (ms >= 0 ? "+" : "") + fmt(ms, 0) + " ms";
    if (base == null || !(base.startupMedianMs() > 0)) return s;
    return s + " (" + (ms >= 0 ? "+" : "") + fmt(100 * ms / base.startupMedianMs(), 1) + " %)";
  }

  private static String cell(double v, double base, int decimals) {
    if (Double.isNaN(v)) return "n/a";
    String s = fmt(v, decimals);
    double ratio = Latencies.ratio(v, base);
    return Double.isNaN(ratio) ? s : s + " (" + fmt(ratio, 2) + "x)";
  }

  static String fmt(double v, int decimals) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return "n/a";
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  static double median(List<Double> xs) {
    if (xs.isEmpty()) return Double.NaN;
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = a.length;
    return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  }

  private static Object num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? null : (Object) v;
  }

  private static Map<String, Object> resultJson(
      Options o,
      Map<String, Object> machine,
      Map<String, Object> verification,
      List<Result> results,
      Result base,
      Path dir) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("benchmark", "process-level comparison (sample app)");
    root.put("machine", machine);
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("rate_per_s", o.rate());
    opts.put("warmup_s", o.warmup().toMillis() / 1000.0);
    opts.put("measure_s", o.measure().toMillis() / 1000.0);
    opts.put("startups", o.startups());
    opts.put("repeats", o.repeats());
    opts.put("heap", o.heap());
    if (!o.minHeap().isEmpty()) opts.put("min_heap", o.minHeap());
    opts.put("configs", o.configs());
    root.put("options", opts);
    Map<String, Object> artifacts = new LinkedHashMap<>();
    artifacts.put("app_jar", artifact(o.appJar()));
    artifacts.put("firebreak_agent", artifact(o.firebreakAgent()));
    artifacts.put("rules", artifact(o.rules()));
    artifacts.put(
        "opentelemetry_agent", artifact(o.peerAgents().resolve("opentelemetry-javaagent.jar")));
    artifacts.put("elastic_agent", artifact(o.peerAgents().resolve("elastic-apm-agent.jar")));
    root.put("artifacts", artifacts);
    root.put("verification", verification);
    root.put("logs", rel(dir));
    Result empty =
        results.stream()
            .filter(r -> r.config.name().equals("empty-agent"))
            .findFirst()
            .orElse(null);
    List<Object> configs = new ArrayList<>();
    for (Result r : results) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("name", r.config.name());
      c.put("label", r.config.label());
      c.put("jvm_args", r.jvmArgs);
      Map<String, Object> startup = new LinkedHashMap<>();
      startup.put("samples_ms", r.startupMs);
      startup.put("median_ms", num(r.startupMedianMs()));
      if (empty != null && r != empty)
        startup.put("beyond_empty_agent_ms", num(r.startupMedianMs() - empty.startupMedianMs()));
      c.put("startup", startup);
      List<Object> rounds = new ArrayList<>();
      for (Round rd : r.rounds) {
        Map<String, Object> round = new LinkedHashMap<>();
        round.put("warmup_load", rd.warmup);
        round.put("measured_load", rd.measured);
        Map<String, Object> proc = new LinkedHashMap<>();
        proc.put("window_s", num(rd.windowS));
        proc.put("cpu_s", num(rd.cpuS));
        proc.put("cpu_s_jvm", num(rd.cpuSJvm));
        proc.put("allocated_bytes", num(rd.allocatedBytes));
        proc.put("allocated_mb", num(rd.allocatedMb()));
        proc.put("gc_count", num(rd.gcCount));
        proc.put("gc_time_ms", num(rd.gcTimeMs));
        proc.put("threads_after", num(rd.threads));
        Map<String, Object> groups = new LinkedHashMap<>();
        for (Map.Entry<String, Double> g : rd.cpuByGroupS.entrySet())
          groups.put(g.getKey(), num(g.getValue()));
        proc.put("cpu_s_by_thread_group", groups);
        round.put("measured_process", proc);
        if (rd.latency != null) {
          Map<String, Object> hist = new LinkedHashMap<>();
          hist.put("log", rd.histogramLog == null ? null : rel(rd.histogramLog));
          hist.put("count", rd.latency.getTotalCount());
          hist.put("p99_9_ms", num(rd.p999()));
          round.put("measured_latency_histogram", hist);
        }
        if (rd.firebreakCalls != null) round.put("firebreak_calls_total_after", rd.firebreakCalls);
        round.put("service_exit", rd.serviceExit);
        rounds.add(round);
      }
      c.put("rounds", rounds);
      if (!r.rounds.isEmpty()) {
        Map<String, Object> med = new LinkedHashMap<>();
        med.put("p50_ms", num(r.p50()));
        med.put("p99_ms", num(r.p99()));
        med.put("cpu_s", num(r.cpuS()));
        med.put("allocated_mb", num(r.allocatedMb()));
        c.put("median_of_rounds", med);
        Histogram all = r.pooled();
        Map<String, Object> pooled = new LinkedHashMap<>();
        pooled.put("what", "all rounds' measured messages in one histogram");
        pooled.put("messages", all.getTotalCount());
        pooled.put("p50_ms", num(Latencies.ms(all, 50)));
        pooled.put("p99_ms", num(Latencies.ms(all, 99)));
        pooled.put("p99_9_ms", num(Latencies.ms(all, 99.9)));
        pooled.put(
            "max_ms", num(all.getTotalCount() == 0 ? Double.NaN : all.getMaxValue() / 1000.0));
        c.put("pooled", pooled);
      }
      if (base != null) {
        Map<String, Object> ratio = new LinkedHashMap<>();
        ratio.put("startup", num(r.startupMedianMs() / base.startupMedianMs()));
        ratio.put("p50", num(r.p50() / base.p50()));
        ratio.put("p99", num(r.p99() / base.p99()));
        ratio.put("pooled_p50", num(Latencies.ratio(r.pooledP50(), base.pooledP50())));
        ratio.put("pooled_p99", num(Latencies.ratio(r.pooledP99(), base.pooledP99())));
        ratio.put("pooled_p99_9", num(Latencies.ratio(r.pooledP999(), base.pooledP999())));
        ratio.put("cpu", num(r.cpuS() / base.cpuS()));
        ratio.put("allocated", num(r.allocatedMb() / base.allocatedMb()));
        c.put("ratio_to_noagent", ratio);
      }
      configs.add(c);
    }
    root.put("configurations", configs);
    root.put(
        "aa_control",
        aaControl(
            base,
            results.stream()
                .filter(r -> r.config.name().equals(AA_CONTROL))
                .findFirst()
                .orElse(null)));
    return root;
  }

  private static Map<String, Object> artifact(Path p) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("path", rel(p));
    a.put("sha256", Files.isRegularFile(p) ? Machine.sha256(p) : null);
    return a;
  }

  private static final Path CWD = Path.of("").toAbsolutePath();

  static String rel(Path p) {
    Path a = p.toAbsolutePath().normalize();
    return a.startsWith(CWD) ? CWD.relativize(a).toString() : a.toString();
  }

  private static String relPaths(String args) {
    return args.replace(CWD + "/", "");
  }
}
