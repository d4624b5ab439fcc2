package dev.firebreak.benchmarks.startup;

import dev.firebreak.benchmarks.Json;
import dev.firebreak.benchmarks.PeerAgents;
import dev.firebreak.benchmarks.process.EmptyAgent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Startup at scale (issue 6, part 3): how much the agent adds to the start of an application of
 * 20,000 classes that are all loaded at start.
 *
 * <p>Run from the repository root:
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.startup.StartupAtScale [--classes 20000] [--runs 10]
 * </pre>
 *
 * <p>Generates (once, cached under {@code benchmarks/target/startup-app/classes-N/}) the
 * application described in {@link AppGenerator}, then starts it {@code runs} times in each of four
 * configurations (six with {@code --before}), interleaved (no-agent, match-10, match-0,
 * match-10-lazy, no-agent, ...), after {@code warmup} uncounted rounds:
 *
 * <ul>
 *   <li>{@code no-agent}: plain JVM;
 *   <li>{@code match-10}: the agent with ten targets whose class globs match the ten Hot classes,
 *       forced open with fallback return-default, so each {@code hot()} returns 0 instead of 42+j;
 *   <li>{@code match-0}: the agent with ten targets of the same shape naming a package that does
 *       not exist;
 *   <li>{@code match-10-lazy}: match-10 with the opt-in {@code startup=lazy}: nothing waits, the
 *       agent starts after the application and retransforms the Hot classes once it is ready (the
 *       calls at start-up are not watched);
 *   <li>{@code match-10-before}, {@code match-0-before} (with {@code --before JAR}): match-10 and
 *       match-0 with another agent jar, to compare two builds in the same rounds;
 *   <li>{@code otel}, {@code elastic} (only when {@code --configs} names them): the OpenTelemetry
 *       and Elastic APM agents of {@code benchmarks/target/peer-agents}, with ProcessComparison's
 *       options and the ten {@code hot()} methods named (that they instrumented them is not checked
 *       on each run; see results/2026-12-07/startup-peers.md);
 *   <li>{@code empty-agent} (only when {@code --configs} names it): a {@code -javaagent} whose
 *       premain does nothing, the share of any agent's figure that comes from the JVM's agent
 *       machinery alone;
 *   <li>{@code empty-transformer} (only when {@code --configs} names it): a {@code -javaagent}
 *       whose premain registers a class-file transformer that changes nothing. An agent that
 *       watches a method from its first call must see its class load, so this is the floor of any
 *       such agent.
 * </ul>
 *
 * <p>The VM's slow spells slow every configuration of a round alike; the "paired by round" column
 * (the median of each round's difference to no agent) cancels them.
 *
 * <p>Figures: startup = wall clock ({@link Instant#now()}, CLOCK_REALTIME, microseconds) from just
 * before the harness starts the process to the moment Main has loaded every class and made the ten
 * calls, passed to Main as {@code -Dstartup.launchEpochNanos}; process wall = {@link
 * System#nanoTime()} in the harness from process start to exit, minus the time Main spent waiting
 * for the agent's timing properties; CPU = the whole process's user and system time (every thread,
 * the JIT's, the GC's and the agent's too) from launch to that same moment, read by Main from
 * {@code /proc/self/stat} (10 ms ticks; Linux only). On a small, noisy VM it is steadier than the
 * wall clock, and it is what an agent beside a start takes from it. Agent time in the name filter
 * and in transforming from the {@code firebreak.timing.*} system properties, when the agent
 * publishes them.
 */
public final class StartupAtScale {
  private static final List<String> TIMING_KEYS =
      List.of(
          "premain.ms",
          "yield.ms",
          "ready.ms",
          "instrumented.ms",
          "weaver.ms",
          "match.classes",
          "match.ms",
          "transform.classes",
          "transform.ms",
          "catchup.classes",
          "catchup.ms");

  private static final class Config {
    final String name;
    final Path rules; // null: no agent
    final int expectedDefaults;
    final String agentOptions; // appended to rules=PATH, e.g. ",startup=lazy"
    final Path agent; // null: the jar under test
    final List<String> peer; // another vendor's agent: its JVM options; null for Firebreak's

    Config(String name, Path rules, int expectedDefaults) {
      this(name, rules, expectedDefaults, "", null);
    }

    /** The baseline: no agent at all. */
    boolean noAgent() {
      return rules == null && peer == null;
    }

    /** Another agent (another vendor's, or the empty one), with these JVM options. */
    Config(String name, List<String> peer) {
      this(name, null, 0, "", null, peer);
    }

    Config(String name, Path rules, int expectedDefaults, String agentOptions, Path agent) {
      this(name, rules, expectedDefaults, agentOptions, agent, null);
    }

    Config(
        String name,
        Path rules,
        int expectedDefaults,
        String agentOptions,
        Path agent,
        List<String> peer) {
      this.peer = peer;
      this.agentOptions = agentOptions;
      this.name = name;
      this.rules = rules;
      this.expectedDefaults = expectedDefaults;
      this.agent = agent;
    }
  }

  private static final class Run {
    int round;
    boolean warmup;
    String config;
    int exitCode;
    double wallMs;
    double wallExclWaitMs;
    Map<String, Object> main;
    String problem;
    String stderr;

    boolean ok() {
      return problem == null;
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("round", round);
      m.put("warmup", warmup);
      m.put("config", config);
      m.put("exitCode", exitCode);
      m.put("processWallMs", wallMs);
      m.put("processWallExclTimingWaitMs", wallExclWaitMs);
      m.put("ok", ok());
      m.put("problem", problem);
      m.put("main", main);
      m.put("stderr", stderr == null || stderr.isEmpty() ? null : stderr);
      return m;
    }
  }

  private int classes = 20_000;
  private int runs = 10;
  private int warmup = 1;
  private Path agent = Path.of("agent/target/firebreak-agent.jar");
  private Path before; // another agent jar, run side by side (match-10 and match-0)
  private List<String> only = List.of(); // configurations to run (empty: all)
  private String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private long timingWaitMs = 5_000;
  private boolean regenerate;
  private final List<String> jvmArgs = new ArrayList<>();

  /** The options as given: the report names its command, so a kept summary can be made again. */
  private String command = "";

  public static void main(String[] args) throws Exception {
    StartupAtScale h = new StartupAtScale();
    try {
      h.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("startup: " + e.getMessage());
      usage();
      System.exit(2);
    }
    System.exit(h.run());
  }

  private static void usage() {
    System.err.println(
        String.join(
            "\n",
            "usage: java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.startup.StartupAtScale [options]",
            "  (run from the repository root)",
            "  --classes N         generated application classes, all loaded at start (default 20000)",
            "  --runs N            counted runs per configuration, interleaved (default 10)",
            "  --warmup N          uncounted rounds first (default 1)",
            "  --agent PATH        agent jar (default agent/target/firebreak-agent.jar; a copy is used)",
            "  --before PATH       another agent jar (say, of the previous commit): match-10-before and",
            "                      match-0-before run with it in the same rounds",
            "  --configs A,B,...   only these configurations (no-agent is always run: the",
            "                      paired column needs it), more rounds in the same time;",
            "                      otel and elastic (the peer agents in benchmarks/target/peer-agents,",
            "                      watching the ten hot()), empty-agent (a premain that does",
            "                      nothing) and empty-transformer (a premain that registers a",
            "                      transformer that changes nothing) run only when named here",
            "  --java PATH         java launcher for the runs (default: this JVM's)",
            "  --jvm-arg ARG       extra JVM option for every run (repeatable)",
            "  --timing-wait-ms N  how long Main waits for the agent's firebreak.timing.* properties (default 5000)",
            "  --regenerate        rebuild the generated application even if cached"));
  }

  private void parse(String[] args) {
    command = String.join(" ", args);
    for (int k = 0; k < args.length; k++) {
      String a = args[k];
      switch (a) {
        case "--classes":
          classes = intArg(args, ++k, a);
          break;
        case "--runs":
          runs = intArg(args, ++k, a);
          break;
        case "--warmup":
          warmup = intArg(args, ++k, a);
          break;
        case "--agent":
          agent = Path.of(arg(args, ++k, a));
          break;
        case "--before":
          before = Path.of(arg(args, ++k, a));
          break;
        case "--configs":
          only = List.of(arg(args, ++k, a).split(","));
          break;
        case "--java":
          java = arg(args, ++k, a);
          break;
        case "--jvm-arg":
          jvmArgs.add(arg(args, ++k, a));
          break;
        case "--timing-wait-ms":
          timingWaitMs = intArg(args, ++k, a);
          break;
        case "--regenerate":
          regenerate = true;
          break;
        case "-h":
        case "--help":
          usage();
          System.exit(0);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (classes < AppGenerator.MIN_CLASSES || classes > AppGenerator.MAX_CLASSES) {
      throw new IllegalArgumentException(
          "--classes must be between "
              + AppGenerator.MIN_CLASSES
              + " and "
              + AppGenerator.MAX_CLASSES);
    }
    if (runs < 1 || warmup < 0 || timingWaitMs < 0) {
      throw new IllegalArgumentException("--runs must be >= 1, --warmup and --timing-wait-ms >= 0");
    }
  }

  private static String arg(String[] args, int k, String opt) {
    if (k >= args.length) {
      throw new IllegalArgumentException(opt + " needs a value");
    }
    return args[k];
  }

  private static int intArg(String[] args, int k, String opt) {
    try {
      return Integer.parseInt(arg(args, k, opt).replace("_", "").replace(",", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(opt + " needs a whole number");
    }
  }

  private int run() throws Exception {
    Path root = Path.of("").toAbsolutePath();
    if (!Files.isDirectory(root.resolve("benchmarks"))
        || !Files.isDirectory(root.resolve("agent"))) {
      System.err.println(
          "startup: run from the repository root (no benchmarks/ and agent/ in " + root + ")");
      return 2;
    }
    if (before != null && !Files.isRegularFile(before)) {
      System.err.println("startup: --before jar not found: " + before.toAbsolutePath());
      return 2;
    }
    if (!Files.isRegularFile(agent)) {
      System.err.println(
          "startup: agent jar not found: "
              + agent.toAbsolutePath()
              + " (build it: mvn -B -q -o -pl agent package -DskipTests, or pass --agent PATH)");
      return 2;
    }
    Path outDir = root.resolve("benchmarks/target/startup");
    Files.createDirectories(outDir);
    // a private copy: the original may be rebuilt while the runs go on
    Path agentCopy = outDir.resolve("firebreak-agent-under-test.jar");
    Files.copy(agent, agentCopy, StandardCopyOption.REPLACE_EXISTING);
    String agentSha = sha256(agentCopy);

    AppGenerator app = new AppGenerator(root.resolve("benchmarks/target/startup-app"), classes);
    boolean built = app.ensure(regenerate);
    long[] cf = app.classFileStats();

    Instant started = Instant.now();
    Map<String, Object> env = new LinkedHashMap<>();
    env.put("date", DateTimeFormatter.ISO_INSTANT.format(started));
    env.put("cpuModel", cpuModel());
    env.put("cpus", Runtime.getRuntime().availableProcessors());
    env.put(
        "clocksource",
        readTrim(Path.of("/sys/devices/system/clocksource/clocksource0/current_clocksource")));
    env.put("loadavgBefore", readTrim(Path.of("/proc/loadavg")));
    env.put("javaVersion", javaVersion());
    env.put("java", java);
    env.put("jvmArgs", jvmArgs);
    env.put("agentJar", agent.toAbsolutePath().toString());
    env.put("agentSha256", agentSha);
    env.put("agentBytes", Files.size(agentCopy));
    Path beforeCopy = null;
    if (before != null) {
      beforeCopy = outDir.resolve("firebreak-agent-before.jar");
      Files.copy(before, beforeCopy, StandardCopyOption.REPLACE_EXISTING);
      env.put("beforeJar", before.toAbsolutePath().toString());
      env.put("beforeSha256", sha256(beforeCopy));
    }

    System.out.println(
        "# Startup at scale: " + classes + " classes, " + runs + " runs per configuration");
    System.out.println();
    System.out.println(
        "- command: java -cp benchmarks/target/benchmarks.jar "
            + StartupAtScale.class.getName()
            + (command.isEmpty() ? "" : " " + command));
    System.out.println("- date: " + env.get("date"));
    System.out.println(
        "- CPU (lscpu model name): " + env.get("cpuModel") + ", " + env.get("cpus") + " CPUs");
    System.out.println("- clock source: " + env.get("clocksource"));
    System.out.println("- load average before: " + env.get("loadavgBefore"));
    System.out.println(
        "- java -version: " + String.join(" | ", ((String) env.get("javaVersion")).split("\\R")));
    System.out.println(
        "- JVM options for every run: "
            + (jvmArgs.isEmpty() ? "(none)" : String.join(" ", jvmArgs)));
    System.out.println(
        "- agent: "
            + env.get("agentJar")
            + " (sha256 "
            + agentSha
            + ", "
            + env.get("agentBytes")
            + " bytes)");
    if (beforeCopy != null) {
      System.out.println(
          "- before: " + env.get("beforeJar") + " (sha256 " + env.get("beforeSha256") + ")");
    }
    System.out.printf(
        Locale.ROOT,
        "- app: %s (%s), %d classes in %d packages, class files %.0f bytes on average, jar %d bytes%n",
        app.jar(),
        built ? "built now" : "cached",
        classes,
        app.packages,
        cf[0] == 0 ? 0.0 : (double) cf[1] / cf[0],
        Files.size(app.jar()));
    System.out.println("- rules: " + app.rules("match-10") + ", " + app.rules("match-0"));
    List<Config> configs = new ArrayList<>();
    configs.add(new Config("no-agent", null, 0));
    configs.add(new Config("match-10", app.rules("match-10"), AppGenerator.HOT_CLASSES));
    configs.add(new Config("match-0", app.rules("match-0"), 0));
    configs.add(
        new Config(
            "match-10-lazy",
            app.rules("match-10"),
            AppGenerator.HOT_CLASSES,
            ",startup=lazy",
            null));
    if (beforeCopy != null) {
      configs.add(
          new Config(
              "match-10-before", app.rules("match-10"), AppGenerator.HOT_CLASSES, "", beforeCopy));
      configs.add(new Config("match-0-before", app.rules("match-0"), 0, "", beforeCopy));
    }
    if (only.contains("empty-agent")) {
      // what any -javaagent costs this start (the JVM's agent machinery, no archived module
      // graph): the part of an agent's figure no agent can take back
      Path empty = EmptyAgent.writeJar(outDir.resolve("empty-agent.jar"));
      configs.add(new Config("empty-agent", List.of("-javaagent:" + empty.toAbsolutePath())));
    }
    if (only.contains("empty-transformer")) {
      // what watching from the first call costs at least: a transformer the JVM calls for every
      // class that loads, here one that changes nothing
      Path floor = EmptyAgent.writeTransformerJar(outDir.resolve("empty-transformer.jar"));
      configs.add(new Config("empty-transformer", List.of("-javaagent:" + floor.toAbsolutePath())));
    }
    if (only.contains("otel")) {
      configs.add(new Config("otel", otelArgs(app)));
    }
    if (only.contains("elastic")) {
      configs.add(new Config("elastic", elasticArgs(app)));
    }
    if (!only.isEmpty()) {
      configs.removeIf(c -> !c.name.equals("no-agent") && !only.contains(c.name));
    }
    List<String> names = new ArrayList<>();
    for (Config c : configs) {
      names.add(c.name);
    }
    System.out.println(
        "- order: "
            + warmup
            + " uncounted round(s), then "
            + runs
            + " rounds of "
            + String.join(", ", names));
    System.out.println();
    System.out.flush();
    Path tmp = outDir.resolve("tmp");
    Files.createDirectories(tmp);
    List<Run> all = new ArrayList<>();
    for (int round = 1 - warmup; round <= runs; round++) {
      for (Config c : configs) {
        Run r = launch(c, round, app, c.agent != null ? c.agent : agentCopy, tmp);
        all.add(r);
        Object st = r.main == null ? null : r.main.get("startupMs");
        System.err.printf(
            Locale.ROOT,
            "startup: %s %-8s startup %s ms, process %.1f ms%s%n",
            r.warmup ? "warmup  " : String.format(Locale.ROOT, "run %3d ", round),
            c.name,
            st == null ? "?" : String.format(Locale.ROOT, "%.1f", (Double) st),
            r.wallExclWaitMs,
            r.ok() ? "" : "  PROBLEM: " + r.problem);
      }
    }

    env.put("loadavgAfter", readTrim(Path.of("/proc/loadavg")));
    Map<String, Map<String, Object>> summary = new LinkedHashMap<>();
    for (Config c : configs) {
      summary.put(c.name, summarize(c.name, all));
    }
    Double base = (Double) summary.get("no-agent").get("startupMsMedian");
    Double baseWall = (Double) summary.get("no-agent").get("processWallMsMedian");
    for (Map<String, Object> s : summary.values()) {
      Double m = (Double) s.get("startupMsMedian");
      Double w = (Double) s.get("processWallMsMedian");
      s.put("addedStartupMs", m == null || base == null ? null : m - base);
      s.put("startupRatio", m == null || base == null ? null : m / base);
      s.put("addedProcessWallMs", w == null || baseWall == null ? null : w - baseWall);
    }
    for (Config c : configs) {
      summary.get(c.name).put("pairedAddedStartupMs", pairedAdded(c.name, all, "startupMs"));
      summary.get(c.name).put("pairedAddedStartCpuMs", pairedAdded(c.name, all, "startCpuMs"));
    }
    printTables(configs, summary);

    long bad = all.stream().filter(r -> !r.ok()).count();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("benchmark", "startup-at-scale");
    doc.put("generator", AppGenerator.VERSION);
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("classes", classes);
    opts.put("packages", app.packages);
    opts.put("runs", runs);
    opts.put("warmupRounds", warmup);
    opts.put("timingWaitMs", timingWaitMs);
    opts.put("appJar", app.jar().toString());
    opts.put("avgClassFileBytes", cf[0] == 0 ? null : (double) cf[1] / cf[0]);
    opts.put("rulesMatch10", app.rules("match-10").toString());
    opts.put("rulesMatch0", app.rules("match-0").toString());
    doc.put("options", opts);
    doc.put("environment", env);
    doc.put("summary", summary);
    List<Object> runList = new ArrayList<>();
    for (Run r : all) {
      runList.add(r.toJson());
    }
    doc.put("runs", runList);
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC)
            .format(started);
    Path json = outDir.resolve("startup-" + classes + "-" + stamp + ".json");
    Files.writeString(json, Json.write(doc));
    System.out.println();
    System.out.println("Raw runs and summary: " + json);
    if (bad > 0) {
      System.out.println(
          "**"
              + bad
              + " run(s) had a problem** (see \"problem\" in the JSON); they are left out of the table.");
      return 1;
    }
    return 0;
  }

  private Run launch(Config c, int round, AppGenerator app, Path agentJar, Path tmp)
      throws IOException, InterruptedException {
    Run r = new Run();
    r.round = round;
    r.warmup = round < 1;
    r.config = c.name;
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(jvmArgs);
    if (c.rules != null) {
      cmd.add(
          "-javaagent:"
              + agentJar.toAbsolutePath()
              + "=rules="
              + c.rules.toAbsolutePath()
              + c.agentOptions);
      cmd.add("-Dstartup.agent=true");
    }
    if (c.peer != null) {
      cmd.addAll(c.peer);
    }
    cmd.add("-Dstartup.config=" + c.name);
    cmd.add("-Dstartup.timingWaitMs=" + timingWaitMs);
    int launchArg = cmd.size();
    cmd.add("-Dstartup.launchEpochNanos=");
    cmd.add("-cp");
    cmd.add(app.jar().toAbsolutePath().toString());
    cmd.add("startup.app.Main");
    Path out = tmp.resolve("stdout.txt");
    Path err = tmp.resolve("stderr.txt");
    ProcessBuilder pb =
        new ProcessBuilder().redirectOutput(out.toFile()).redirectError(err.toFile());
    Instant launchAt = Instant.now();
    cmd.set(
        launchArg,
        "-Dstartup.launchEpochNanos="
            + (launchAt.getEpochSecond() * 1_000_000_000L + launchAt.getNano()));
    pb.command(cmd);
    long t0 = System.nanoTime();
    Process p = pb.start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    long t1 = System.nanoTime();
    if (!done) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      r.exitCode = -1;
      r.problem = "did not exit within 120 s";
    } else {
      r.exitCode = p.exitValue();
    }
    r.wallMs = (t1 - t0) / 1e6;
    r.stderr = tail(Files.readString(err, StandardCharsets.UTF_8), 2000);
    String line = null;
    for (String l : Files.readAllLines(out, StandardCharsets.UTF_8)) {
      if (l.startsWith("{")) {
        line = l;
      }
    }
    if (line != null) {
      try {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(line);
        r.main = m;
      } catch (RuntimeException e) {
        r.problem = "unreadable output: " + e.getMessage();
      }
    }
    double wait =
        r.main != null && r.main.get("timingWaitMs") instanceof Double
            ? (Double) r.main.get("timingWaitMs")
            : 0;
    r.wallExclWaitMs = r.wallMs - wait;
    if (r.problem == null) {
      r.problem = check(c, r);
    }
    return r;
  }

  /** The peer agents' jars (`mvn package` copies them there from Maven Central). */
  private static final Path PEER_AGENTS = Path.of("benchmarks/target/peer-agents");

  /** OpenTelemetry with the options ProcessComparison gives it: a span for each hot(). */
  private static List<String> otelArgs(AppGenerator app) {
    return PeerAgents.otel(
        PEER_AGENTS.resolve("opentelemetry-javaagent.jar").toAbsolutePath(),
        "startup",
        hotMethods(app));
  }

  /** Elastic APM with the options ProcessComparison gives it: a trace for each hot(). */
  private static List<String> elasticArgs(AppGenerator app) {
    return PeerAgents.elastic(
        PEER_AGENTS.resolve("elastic-apm-agent.jar").toAbsolutePath(),
        "startup",
        "startup.app",
        hotMethods(app));
  }

  /** The ten hot() methods, as {class, method}. */
  private static List<String[]> hotMethods(AppGenerator app) {
    List<String[]> methods = new ArrayList<>();
    for (int i : app.hotIndex) {
      methods.add(new String[] {app.packageOf(i) + "." + app.simpleName(i), "hot"});
    }
    return methods;
  }

  private String check(Config c, Run r) {
    if (r.exitCode != 0) {
      return "exit code " + r.exitCode + (r.stderr.isEmpty() ? "" : ": " + firstLine(r.stderr));
    }
    if (r.main == null) {
      return "no JSON line on stdout";
    }
    // the agent prints nothing on a healthy start; any "firebreak: ..." line is an error report,
    // except the one startup=lazy prints by design
    for (String l : r.stderr.split("\\R")) {
      if (l.startsWith("firebreak:") && !l.startsWith("firebreak: startup=lazy:")) {
        return "the agent reported: " + l;
      }
    }
    if (num(r.main.get("loaded")) != classes) {
      return "loaded " + r.main.get("loaded") + " classes, expected " + classes;
    }
    if (!(r.main.get("startupMs") instanceof Double)) {
      return "no startupMs";
    }
    // by default (startup=watched) the hot() calls are watched from the start; with startup=lazy
    // the agent instruments once the application has started, so only the calls made after it
    // reported ready must be (the calls at start-up are reported, not checked)
    int defaults = (int) num(r.main.get("hotDefaults"));
    int after = (int) num(r.main.get("hotDefaultsAfterReady"));
    boolean background = c.rules != null && c.agentOptions.contains("startup=lazy");
    if (!background && defaults != c.expectedDefaults) {
      return defaults
          + " of the "
          + AppGenerator.HOT_CLASSES
          + " hot() calls returned the default 0, expected "
          + c.expectedDefaults
          + (c.expectedDefaults > 0
              ? " (the rules did not instrument them)"
              : " (something instrumented them)");
    }
    if (after != c.expectedDefaults) {
      return after
          + " of the "
          + AppGenerator.HOT_CLASSES
          + " hot() calls after the agent was ready returned the default 0, expected "
          + c.expectedDefaults
          + (c.expectedDefaults > 0
              ? " (the rules did not instrument them)"
              : " (something instrumented them)");
    }
    if (c.rules != null && !Boolean.TRUE.equals(r.main.get("agent"))) {
      return "agent not seen by Main";
    }
    return null;
  }

  /**
   * The median over rounds of (this configuration's figure {@code key} of Main's output − no
   * agent's in the same round): the VM's slow spells (every configuration of a round slower alike)
   * cancel out.
   */
  private static Double pairedAdded(String config, List<Run> all, String key) {
    Map<Integer, Double> base = new LinkedHashMap<>();
    Map<Integer, Double> mine = new LinkedHashMap<>();
    for (Run r : all) {
      if (r.warmup || !r.ok() || !(r.main.get(key) instanceof Double)) {
        continue;
      }
      if (r.config.equals("no-agent")) {
        base.put(r.round, (Double) r.main.get(key));
      }
      if (r.config.equals(config)) {
        mine.put(r.round, (Double) r.main.get(key));
      }
    }
    List<Double> d = new ArrayList<>();
    for (Map.Entry<Integer, Double> e : mine.entrySet()) {
      Double b = base.get(e.getKey());
      if (b != null) {
        d.add(e.getValue() - b);
      }
    }
    return median(d);
  }

  private Map<String, Object> summarize(String config, List<Run> all) {
    List<Run> rs = new ArrayList<>();
    for (Run r : all) {
      if (!r.warmup && r.ok() && r.config.equals(config)) {
        rs.add(r);
      }
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("runs", rs.size());
    List<Double> startup = collect(rs, "startupMs");
    s.put("startupMsMedian", median(startup));
    s.put("startupMsP90", p90(startup));
    s.put("startupMsMin", startup.isEmpty() ? null : Collections.min(startup));
    s.put("startupMsMax", startup.isEmpty() ? null : Collections.max(startup));
    s.put("toMainMsMedian", median(collect(rs, "toMainMs")));
    s.put("loadMsMedian", median(collect(rs, "loadMs")));
    s.put("mainMsMedian", median(collect(rs, "mainMs")));
    s.put("startCpuMsMedian", median(collect(rs, "startCpuMs")));
    List<Double> wall = new ArrayList<>();
    for (Run r : rs) {
      wall.add(r.wallExclWaitMs);
    }
    s.put("processWallMsMedian", median(wall));
    s.put("processWallMsP90", p90(wall));
    s.put("timingWaitMsMedian", median(collect(rs, "timingWaitMs")));
    s.put("hotDefaults", rs.isEmpty() ? null : rs.get(0).main.get("hotDefaults"));
    s.put(
        "hotDefaultsAfterReady", rs.isEmpty() ? null : rs.get(0).main.get("hotDefaultsAfterReady"));
    Map<String, Object> timing = new LinkedHashMap<>();
    for (String k : TIMING_KEYS) {
      List<Double> v = new ArrayList<>();
      for (Run r : rs) {
        Object t =
            r.main.get("timing") instanceof Map ? ((Map<?, ?>) r.main.get("timing")).get(k) : null;
        if (t instanceof Double) {
          v.add((Double) t);
        }
      }
      timing.put(k, median(v));
      timing.put(k + ".runs", v.size());
    }
    s.put("agentTimingMedians", timing);
    return s;
  }

  private void printTables(List<Config> configs, Map<String, Map<String, Object>> summary) {
    System.out.println(
        "Startup = launch to \"all "
            + classes
            + " classes loaded and the 10 hot() calls made\" (median of "
            + runs
            + " interleaved runs); process = launch to exit, minus Main's wait for the agent's timing properties.");
    System.out.println();
    System.out.println(
        "| configuration | runs | startup ms (median) | p90 | min | added ms vs no agent | added ms, paired by round | ratio"
            + " | launch to main() ms | main() ms | process ms (median) | added process ms"
            + " | CPU ms to the end of the start (median) | added CPU ms, paired by round"
            + " | hot() watched at start-up | hot() watched once the agent is ready |");
    System.out.println(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Config c : configs) {
      Map<String, Object> s = summary.get(c.name);
      System.out.println(
          "| "
              + c.name
              + " | "
              + s.get("runs")
              + " | "
              + f1(s.get("startupMsMedian"))
              + " | "
              + f1(s.get("startupMsP90"))
              + " | "
              + f1(s.get("startupMsMin"))
              + " | "
              + (c.noAgent() ? "—" : signed(s.get("addedStartupMs")))
              + " | "
              + (c.noAgent() ? "—" : signed(s.get("pairedAddedStartupMs")))
              + " | "
              + (c.noAgent() ? "1.000x" : ratio(s.get("startupRatio")))
              + " | "
              + f1(s.get("toMainMsMedian"))
              + " | "
              + f1(s.get("mainMsMedian"))
              + " | "
              + f1(s.get("processWallMsMedian"))
              + " | "
              + (c.noAgent() ? "—" : signed(s.get("addedProcessWallMs")))
              + " | "
              + f1(s.get("startCpuMsMedian"))
              + " | "
              + (c.noAgent() ? "—" : signed(s.get("pairedAddedStartCpuMs")))
              + " | "
              + (s.get("hotDefaults") == null || c.peer != null
                  ? "—"
                  : (long) num(s.get("hotDefaults")) + " / " + AppGenerator.HOT_CLASSES)
              + " | "
              + (s.get("hotDefaultsAfterReady") == null || c.peer != null
                  ? "—"
                  : (long) num(s.get("hotDefaultsAfterReady")) + " / " + AppGenerator.HOT_CLASSES)
              + " |");
    }
    System.out.println();
    System.out.println(
        "Agent's own figures (medians of the firebreak.timing.* system properties; — = not published by this agent jar):");
    System.out.println();
    System.out.println(
        "| configuration | premain ms | yield ms (premain start to the agent's start) | ready ms (to rules in force)"
            + " | instrumented ms (to Byte Buddy ready) | Byte Buddy's start ms | classes seen by the name filter | match ms"
            + " | classes transformed | transform ms | classes retransformed (catch-up) | catch-up ms |");
    System.out.println(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Config c : configs) {
      if (c.rules == null) {
        continue;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> t = (Map<String, Object>) summary.get(c.name).get("agentTimingMedians");
      System.out.println(
          "| "
              + c.name
              + " | "
              + f1(t.get("premain.ms"))
              + " | "
              + f1(t.get("yield.ms"))
              + " | "
              + f1(t.get("ready.ms"))
              + " | "
              + f1(t.get("instrumented.ms"))
              + " | "
              + f1(t.get("weaver.ms"))
              + " | "
              + f0(t.get("match.classes"))
              + " | "
              + f1(t.get("match.ms"))
              + " | "
              + f0(t.get("transform.classes"))
              + " | "
              + f1(t.get("transform.ms"))
              + " | "
              + f0(t.get("catchup.classes"))
              + " | "
              + f1(t.get("catchup.ms"))
              + " |");
    }
  }

  private static List<Double> collect(List<Run> rs, String key) {
    List<Double> v = new ArrayList<>();
    for (Run r : rs) {
      if (r.main.get(key) instanceof Double) {
        v.add((Double) r.main.get(key));
      }
    }
    return v;
  }

  static Double median(List<Double> v) {
    if (v.isEmpty()) {
      return null;
    }
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /** Nearest-rank 90th percentile (for 10 runs: the 9th smallest). */
  static Double p90(List<Double> v) {
    if (v.isEmpty()) {
      return null;
    }
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    int rank = (int) Math.ceil(0.9 * s.size());
    return s.get(Math.max(0, rank - 1));
  }

  private static double num(Object o) {
    return o instanceof Number ? ((Number) o).doubleValue() : Double.NaN;
  }

  private static String f1(Object o) {
    return o instanceof Number
        ? String.format(Locale.ROOT, "%.1f", ((Number) o).doubleValue())
        : "—";
  }

  private static String f0(Object o) {
    return o instanceof Number
        ? String.format(Locale.ROOT, "%.0f", ((Number) o).doubleValue())
        : "—";
  }

  private static String signed(Object o) {
    return o instanceof Number
        ? String.format(Locale.ROOT, "%+.1f", ((Number) o).doubleValue())
        : "—";
  }

  private static String ratio(Object o) {
    return o instanceof Number
        ? String.format(Locale.ROOT, "%.3fx", ((Number) o).doubleValue())
        : "—";
  }

  private static String tail(String s, int max) {
    return s.length() <= max ? s : "…" + s.substring(s.length() - max);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static String readTrim(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String cpuModel() {
    try {
      String out = runCommand(List.of("lscpu"));
      for (String l : out.split("\\R")) {
        if (l.startsWith("Model name:")) {
          return l.substring("Model name:".length()).trim();
        }
      }
    } catch (IOException | InterruptedException e) {
      // fall through
    }
    return "unknown";
  }

  private String javaVersion() {
    try {
      return runCommand(List.of(java, "-version")).trim();
    } catch (IOException | InterruptedException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static String runCommand(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  private static String sha256(Path p) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
