package com.acme.chat.replay;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.load.Timeline;
import com.acme.chat.server.ChatServer;
import com.acme.chat.util.Args;
import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The outage replay: the chat service is started as a child JVM once without the Firebreak agent,
 * once with it and the SRE's rules file, and once more with it for every further rules file asked
 * for ({@code --rules}, e.g. rules/auto-fence.yaml, which names no method). Each time it gets a
 * steady open-loop load, then the bad emoji pack is deployed while the load goes on, then the good
 * pack is deployed again. Everything in the printed table is measured during the run.
 */
public final class Replay {
  /** What to run. */
  public record Options(
      Path appJar,
      Path agentJar,
      Path rules,
      double rate,
      Duration warmup,
      Duration steady,
      Duration incident,
      Duration recoveryMin,
      Duration recoveryMax,
      int maxRetries,
      String badPack,
      boolean withoutAgent,
      boolean withAgent,
      boolean keepFiles,
      boolean autoRollback,
      Path report,
      List<Path> moreRules) {
    /**
     * @param rules the rules file of the run with Firebreak (null: the copy inside the jar)
     * @param moreRules one more run with Firebreak for each of these rules files
     */
    public Options {
      moreRules = List.copyOf(moreRules);
    }

    /** No more runs than without and with Firebreak and {@code rules}. */
    public Options(
        Path appJar,
        Path agentJar,
        Path rules,
        double rate,
        Duration warmup,
        Duration steady,
        Duration incident,
        Duration recoveryMin,
        Duration recoveryMax,
        int maxRetries,
        String badPack,
        boolean withoutAgent,
        boolean withAgent,
        boolean keepFiles,
        boolean autoRollback,
        Path report) {
      this(
          appJar,
          agentJar,
          rules,
          rate,
          warmup,
          steady,
          incident,
          recoveryMin,
          recoveryMax,
          maxRetries,
          badPack,
          withoutAgent,
          withAgent,
          keepFiles,
          autoRollback,
          report,
          List.of());
    }
  }

  /**
   * What one run measured. {@code rules}: the rules file it ran with (null without the agent);
   * {@code autoFence}: whether that file has an {@code auto-fence} section; {@code stackOverflows}:
   * attempts that ended in a StackOverflowError in the service; the times are seconds from the bad
   * deploy: the first overflow, the first {@code auto-fence} alert (the fence in place) and the
   * first alert naming {@code EmojiRenderer.expand}; {@code killSwitchWatched}: whether the
   * renderer's kill switch was seen at all (rules that do not name it have none).
   */
  public record RunResult(
      String label,
      boolean agent,
      Map<String, LoadGenerator.Summary> phases,
      long deadLettered,
      Double firstAlertSeconds,
      Double killSwitchOpenSeconds,
      Double killSwitchClosedSeconds,
      Map<String, Object> alert,
      int alerts,
      String note,
      Double rollbackSeconds,
      Double recoverySeconds,
      Double goodPackSeconds,
      long badDeployMicros,
      List<Timeline.Second> timeline,
      String rules,
      boolean autoFence,
      long stackOverflows,
      Double firstOverflowSeconds,
      Double fenceSeconds,
      Double rendererAlertSeconds,
      boolean killSwitchWatched) {
    public LoadGenerator.Summary phase(String name) {
      return phases.get(name);
    }

    static RunResult failed(
        String label, boolean agent, String rules, boolean autoFence, String note) {
      return new RunResult(
          label, agent, Map.of(), -1, null, null, null, null, 0, note, null, null, null, 0,
          List.of(), rules, autoFence, -1, null, null, null, false);
    }
  }

  /** Every run, in the order they ran: without Firebreak first, then those with it. */
  public record Report(Options options, List<RunResult> runs, double seconds) {
    public Report {
      runs = List.copyOf(runs);
    }

    /** The run without Firebreak; null when it was not asked for. */
    public RunResult withoutAgent() {
      return runs.stream().filter(r -> !r.agent()).findFirst().orElse(null);
    }

    /** The run with Firebreak and the SRE's rules file; null when it was not asked for. */
    public RunResult withAgent() {
      return runs.stream().filter(RunResult::agent).findFirst().orElse(null);
    }

    /** The run called {@code label}; null if there is none. */
    public RunResult run(String label) {
      return runs.stream().filter(r -> r.label().equals(label)).findFirst().orElse(null);
    }
  }

  /** One run to make: its label and rules file (null: the copy inside the jar). */
  record Plan(String label, boolean agent, Path rules) {}

  public static final String TARGET = "emoji-render";

  /** The rule of the alert event the agent sends when it fences a cycle by itself. */
  public static final String AUTO_FENCE_RULE = "auto-fence";

  private final Options options;
  private final PrintStream out;
  private final PrintStream progress;
  private final boolean terminal = System.console() != null;
  private volatile String serviceConfig = "";

  public Replay(Options options, PrintStream out, PrintStream progress) {
    this.options = options;
    this.out = out;
    this.progress = progress;
  }

  // ---------------------------------------------------------------- command line

  /** The command line, read: what to run, and whether to print the JSON line. */
  record Command(Options options, boolean json) {}

  public static int main(List<String> argv) throws IOException, InterruptedException {
    Command c = command(argv);
    Options o = c.options();
    Report r = new Replay(o, System.out, System.err).run();
    if (c.json()) System.out.println(Json.write(toJson(r)));
    boolean agentThere = o.agentJar() != null && Files.exists(o.agentJar());
    boolean failed =
        r.runs().stream().anyMatch(x -> x.phases().isEmpty() && (!x.agent() || agentThere));
    return failed ? 1 : 0;
  }

  /**
   * Reads the command line. {@code --rules FILE} (repeatable) adds a run with Firebreak and FILE
   * beside the one with the SRE's rules file, which stays rules/emoji-pipeline.yaml (or {@code
   * -Dfirebreak.rules}).
   *
   * @throws Args.UsageException for wrong usage
   */
  static Command command(List<String> argv) {
    Args a =
        new Args(
            argv, Set.of("without-agent-only", "with-agent-only", "json", "keep", "auto-rollback"));
    Path jar = ownJar();
    String agentOpt = a.string("agent", System.getProperty("firebreak.agent.jar"));
    String rulesOpt = System.getProperty("firebreak.rules");
    List<Path> moreRules = a.strings("rules").stream().map(Path::of).toList();
    String reportOpt = a.string("report", null);
    boolean withoutOnly = a.flag("without-agent-only");
    boolean withOnly = a.flag("with-agent-only");
    Duration recovery = a.duration("recovery", Duration.ofSeconds(15));
    Options o =
        new Options(
            a.string("app-jar", null) != null ? Path.of(a.string("app-jar", null)) : jar,
            agentOpt != null ? Path.of(agentOpt) : findAgent(jar),
            rulesOpt != null ? Path.of(rulesOpt) : findRules(jar),
            a.decimal("rate", 200),
            a.duration("warmup", Duration.ofSeconds(3)),
            a.duration("steady", Duration.ofSeconds(8)),
            a.duration("incident", Duration.ofSeconds(15)),
            a.duration("recovery-min", Duration.ofSeconds(5)),
            recovery,
            a.integer("max-retries", ChatServer.DEFAULT_MAX_RETRIES),
            a.string("bad-pack", "bad-update"),
            !withOnly,
            !withoutOnly,
            a.flag("keep"),
            a.flag("auto-rollback"),
            reportOpt != null ? Path.of(reportOpt) : null,
            moreRules);
    boolean json = a.flag("json");
    a.rejectUnknown();
    if (withOnly && withoutOnly)
      throw new Args.UsageException(
          "--with-agent-only and --without-agent-only exclude each other");
    if (withoutOnly && !moreRules.isEmpty())
      throw new Args.UsageException(
          "--rules makes a run with Firebreak; not with --without-agent-only");
    for (Path p : moreRules) {
      if (!Files.isRegularFile(p)) throw new Args.UsageException("--rules " + p + ": no such file");
    }
    return new Command(o, json);
  }

  /** The jar this class was loaded from, or null when running from a class directory. */
  public static Path ownJar() {
    try {
      Path p = Path.of(Replay.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(p) && p.toString().endsWith(".jar") ? p : null;
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * agent/target/firebreak-agent.jar in this directory, its parent, or beside the app jar's module.
   */
  public static Path findAgent(Path ownJar) {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("agent/target/firebreak-agent.jar"));
    candidates.add(Path.of("../agent/target/firebreak-agent.jar"));
    if (ownJar != null)
      candidates.add(
          ownJar.toAbsolutePath().getParent().resolve("../../agent/target/firebreak-agent.jar"));
    for (Path p : candidates) if (Files.isRegularFile(p)) return p.toAbsolutePath().normalize();
    return candidates.get(0).toAbsolutePath();
  }

  /** rules/emoji-pipeline.yaml, looked for the same way; null: use the copy inside the jar. */
  public static Path findRules(Path ownJar) {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("rules/emoji-pipeline.yaml"));
    candidates.add(Path.of("../rules/emoji-pipeline.yaml"));
    if (ownJar != null)
      candidates.add(
          ownJar.toAbsolutePath().getParent().resolve("../../rules/emoji-pipeline.yaml"));
    for (Path p : candidates) if (Files.isRegularFile(p)) return p.toAbsolutePath().normalize();
    return null; // use the copy inside the jar
  }

  // ---------------------------------------------------------------- the runs

  public Report run() throws IOException, InterruptedException {
    long start = System.nanoTime();
    Path dir = Files.createTempDirectory("firebreak-replay-");
    List<RunResult> runs = new ArrayList<>();
    try {
      progress.printf(
          "Firebreak outage replay: the emoji pack update '%s' goes live under %.0f msg/s%n",
          options.badPack(), options.rate());
      List<Plan> plans = plans();
      for (int i = 0; i < plans.size(); i++) {
        Plan p = plans.get(i);
        String tag = p.agent() ? "with-" + i : "without";
        if (p.agent() && (options.agentJar() == null || !Files.isRegularFile(options.agentJar()))) {
          String note =
              "agent jar not found at "
                  + options.agentJar()
                  + " (build it with: mvn -q -DskipTests package; or pass --agent PATH)";
          progress.println("replay: " + note + "; skipping the run " + p.label());
          runs.add(RunResult.failed(p.label(), true, rulesName(p.rules()), false, note));
        } else {
          runs.add(safeRun(p, tag, dir));
        }
      }
    } finally {
      if (!options.keepFiles()) deleteTree(dir);
      else progress.println("replay: files kept in " + dir);
    }
    Report r = new Report(options, runs, (System.nanoTime() - start) / 1e9);
    String table = table(r);
    out.print(table);
    if (options.report() != null) {
      Path svg = ReplayReport.write(options.report(), r, table);
      progress.println("replay: report written to " + options.report() + " and " + svg);
    }
    return r;
  }

  /**
   * The runs asked for: without Firebreak, with it and the SRE's rules file, then with it and each
   * further rules file (one the same as the SRE's is not run twice).
   */
  List<Plan> plans() {
    List<Plan> plans = new ArrayList<>();
    if (options.withoutAgent()) plans.add(new Plan("without Firebreak", false, null));
    if (!options.withAgent()) return plans;
    String rollback = options.autoRollback() ? " + rollback" : "";
    plans.add(new Plan("with Firebreak" + rollback, true, options.rules()));
    List<Path> seen = new ArrayList<>();
    if (options.rules() != null) seen.add(options.rules().toAbsolutePath().normalize());
    for (Path more : options.moreRules()) {
      Path abs = more.toAbsolutePath().normalize();
      if (seen.contains(abs)) continue;
      seen.add(abs);
      String name = more.getFileName().toString().replaceFirst("\\.ya?ml$", "");
      String label = "with " + name + rollback;
      for (int n = 2; labelTaken(plans, label); n++)
        label = "with " + name + " (" + n + ")" + rollback;
      plans.add(new Plan(label, true, more));
    }
    return plans;
  }

  private static boolean labelTaken(List<Plan> plans, String label) {
    return plans.stream().anyMatch(p -> p.label().equals(label));
  }

  private static String rulesName(Path rules) {
    return rules == null ? "(the copy in the jar)" : rules.toString();
  }

  private RunResult safeRun(Plan p, String tag, Path dir) throws InterruptedException {
    try {
      return runOnce(p.label(), p.agent(), p.rules(), tag, dir);
    } catch (IOException e) {
      progress.println("[" + p.label() + "] the run failed: " + e.getMessage());
      return RunResult.failed(
          p.label(),
          p.agent(),
          p.agent() ? rulesName(p.rules()) : null,
          false,
          "the run failed: " + e.getMessage());
    }
  }

  private RunResult runOnce(String label, boolean agent, Path rulesFile, String tag, Path dir)
      throws IOException, InterruptedException {
    boolean rollback = agent && options.autoRollback();
    boolean autoFence =
        agent && RulesCopy.parse(RulesCopy.read(rulesFile)).containsKey("auto-fence");
    List<String> jvm = new ArrayList<>();
    List<String> serveArgs =
        new ArrayList<>(List.of("--max-retries", Integer.toString(options.maxRetries())));
    Path alertLog = null;
    Path rules = null;
    int metricsPort = -1;
    int servicePort = ServiceProcess.freePort();
    if (agent) {
      alertLog = dir.resolve("alerts-" + tag + ".jsonl");
      metricsPort = ServiceProcess.freePort();
      Path token = null;
      if (rollback) {
        token = RulesCopy.writeAdminToken(dir.resolve("admin-token-" + tag));
        serveArgs.addAll(
            List.of(
                "--rollback-on-firebreak",
                "--firebreak-admin",
                "http://127.0.0.1:" + metricsPort,
                "--firebreak-token-file",
                token.toString()));
      }
      rules =
          writeRules(
              dir.resolve("rules-" + tag + ".yaml"),
              rulesFile,
              alertLog,
              metricsPort,
              rollback ? "http://127.0.0.1:" + servicePort + "/hooks/firebreak" : null,
              token);
      jvm.add(
          "-javaagent:"
              + options.agentJar().toAbsolutePath()
              + "=rules="
              + rules.toAbsolutePath()
              + ",port="
              + metricsPort);
    }
    progress.printf(
        "[%s] starting the chat service%s%n",
        label, agent ? " with -javaagent:" + options.agentJar().getFileName() : "");
    try (ServiceProcess service =
            ServiceProcess.start(
                options.appJar(),
                jvm,
                serveArgs,
                dir.resolve("service-" + tag + ".log"),
                Duration.ofSeconds(30),
                servicePort);
        AgentWatch watch = agent ? new AgentWatch(metricsPort, alertLog, TARGET) : null) {
      LoadGenerator.Options lo =
          LoadGenerator.Options.defaults(service.uri())
              .withRate(options.rate())
              .withDuration(Duration.ofHours(1)); // stopped by the replay
      LoadGenerator load = new LoadGenerator(lo);
      load.phase("warmup");
      load.start("replay-load");
      LoadGenerator.Result result;
      Progress bar = null;
      long badDeploy;
      long goodDeploy;
      long loadEnd;
      int stateAtGoodDeploy;
      try {

        bar = new Progress(label, load, service, watch);
        bar.phase("warmup", options.warmup());
        bar.waitFor(options.warmup(), () -> false);

        load.phase("before");
        bar.phase("before", options.steady());
        bar.waitFor(options.steady(), () -> false);

        load.phase("after");
        badDeploy = Clock.nowMicros();
        service.deployPack(options.badPack());
        bar.phase("after bad deploy", options.incident());
        bar.waitFor(options.incident(), () -> false);

        load.phase("recovered");
        goodDeploy = Clock.nowMicros();
        stateAtGoodDeploy = watch == null ? -1 : watch.state();
        if (rollback) {
          bar.phase("no pack by hand", options.recoveryMax()); // the service rolled back itself
        } else {
          service.deployPack("default");
          bar.phase("good pack back", options.recoveryMax());
        }
        long minEnd = System.nanoTime() + options.recoveryMin().toNanos();
        long[] closedAt = {-1};
        bar.waitFor(
            options.recoveryMax(),
            () -> {
              if (System.nanoTime() < minEnd) return false;
              if (watch == null || !watch.metricsUp()) return true;
              // closed, or no switch at all (rules that do not name the renderer)
              if (closedAt[0] < 0 && watch.state() <= 0) closedAt[0] = System.nanoTime();
              // 3 s past the close: long enough to see rendering back to normal (see recovery)
              return closedAt[0] > 0 && System.nanoTime() - closedAt[0] > 3_000_000_000L;
            });
        loadEnd = Clock.nowMicros();
        load.stop();
        bar.phase("draining", Duration.ZERO);
      } finally {
        result = load.finish();
      }
      bar.done();

      long dead = -1;
      long overflows = -1;
      Double firstOverflow = null;
      Double rolledBack = null;
      try {
        if (rollback) {
          Map<String, Object> pack = service.json("/admin/emoji-pack");
          if (String.valueOf(pack.get("source")).startsWith("rollback:"))
            rolledBack = seconds(((Number) pack.get("changed_at")).longValue() - badDeploy);
        }
        dead = ((Number) service.json("/dead-letters").get("count")).longValue();
        Map<String, Object> st = service.json("/stats");
        if (st.get("stack_overflows") instanceof Number n) overflows = n.longValue();
        if (st.get("first_stack_overflow_us") instanceof Number n)
          firstOverflow = seconds(n.longValue() - badDeploy);
        serviceConfig =
            String.format(
                "%s workers, queue %s, max-retries %s",
                st.get("workers"), st.get("queue_capacity"), st.get("max_retries"));
      } catch (IOException e) {
        progress.println("[" + label + "] could not read the dead letters: " + e.getMessage());
      }
      Double firstAlert = null;
      Double open = null;
      Double closed = null;
      Double fence = null;
      Double rendererAlert = null;
      Map<String, Object> alert = null;
      int alerts = 0;
      String note = null;
      if (watch != null) {
        watch.close();
        alert = watch.firstAlert(badDeploy);
        alerts = watch.alerts().size();
        if (alert != null) firstAlert = seconds(watch.alertMicros(alert) - badDeploy);
        // an automatic fence comes only from an auto-fence section (a rule may be named alike)
        Map<String, Object> f = autoFence ? watch.firstAlert(badDeploy, Replay::isFence) : null;
        if (f != null) fence = seconds(watch.alertMicros(f) - badDeploy);
        Map<String, Object> n = watch.firstAlert(badDeploy, Replay::namesRenderer);
        if (n != null) rendererAlert = seconds(watch.alertMicros(n) - badDeploy);
        long o = watch.firstState(1, badDeploy);
        if (o > 0) open = seconds(o - badDeploy);
        if (stateAtGoodDeploy == 0) {
          closed = 0.0;
        } else {
          long c = watch.firstState(0, goodDeploy);
          if (c > 0) closed = seconds(c - goodDeploy);
        }
        if (!watch.metricsUp()) note = "the agent's /metrics never answered on port " + metricsPort;
        else if (!inForce(watch, rules))
          note =
              "the agent did not put "
                  + rulesName(rulesFile)
                  + " in force; it said:\n"
                  + agentLines(service.log());
      }
      if (!service.alive()) note = "the service died during the run:\n" + service.logTail(20);
      // normal rendering: from the first message after which every message with an emoji was
      // delivered in time with it rendered; never, if the last one that was not is near the end
      long lastUnrendered = load.lastUnrenderedMicros();
      Double recovery =
          lastUnrendered < badDeploy
              ? Double.valueOf(0.0)
              : lastUnrendered > loadEnd - 2_000_000 ? null : seconds(lastUnrendered - badDeploy);
      return new RunResult(
          label,
          agent,
          result == null ? Map.of() : result.phases(),
          dead,
          firstAlert,
          open,
          closed,
          alert,
          alerts,
          note,
          rolledBack,
          recovery,
          rollback ? null : seconds(goodDeploy - badDeploy),
          badDeploy,
          load.timeline(),
          agent ? rulesName(rulesFile) : null,
          autoFence,
          overflows,
          firstOverflow,
          fence,
          rendererAlert,
          watch != null && !watch.transitions(TARGET).isEmpty());
    }
  }

  /** Whether the agent reports {@code rules} (this run's copy) as the rules in force. */
  private static boolean inForce(AgentWatch watch, Path rules)
      throws IOException, InterruptedException {
    PromText m = watch.scrape();
    if (m == null) return true; // no answer now: nothing to say
    String sha = HexFormat.of().formatHex(sha256(Files.readAllBytes(rules)));
    return m.byLabel("firebreak_rules_info", "sha256").containsKey(sha);
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JVM has SHA-256
    }
  }

  /** The agent's own lines ({@code firebreak: ...}) in the service's log, at most five. */
  private static String agentLines(Path log) {
    try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
      return lines
          .filter(l -> l.startsWith("firebreak:"))
          .limit(5)
          .map(l -> "  " + l)
          .collect(Collectors.joining("\n"));
    } catch (IOException | UncheckedIOException e) {
      return "  (no log: " + e.getMessage() + ")";
    }
  }

  /** An alert event that says the agent put up a fence by itself (not its resolved event). */
  static boolean isFence(Map<String, Object> event) {
    return AUTO_FENCE_RULE.equals(event.get("rule")) && !Boolean.TRUE.equals(event.get("resolved"));
  }

  /**
   * An alert event that tells the on-call where the recursion is: it names {@code
   * EmojiRenderer.expand} (in its stack or folded cycle), or it is the renderer's automatic target.
   */
  static boolean namesRenderer(Map<String, Object> event) {
    if (Boolean.TRUE.equals(event.get("resolved"))) return false;
    return "auto-emojirenderer-expand".equals(event.get("target"))
        || Json.write(event).contains("EmojiRenderer.expand");
  }

  private static double seconds(long micros) {
    return Math.round(micros / 10_000.0) / 100.0;
  }

  /**
   * A copy of the rules file with the alert log and the metrics port this run uses (the rest is
   * exactly what the SRE wrote).
   */
  Path writeRules(Path to, Path alertLog, int metricsPort) throws IOException {
    return writeRules(to, options.rules(), alertLog, metricsPort, null, null);
  }

  private Path writeRules(
      Path to, Path from, Path alertLog, int metricsPort, String webhook, Path token)
      throws IOException {
    Map<String, Object> rules = RulesCopy.parse(RulesCopy.read(from));
    RulesCopy.forRun(rules, alertLog, metricsPort);
    if (webhook != null) RulesCopy.rollbackLoop(rules, webhook, token);
    Files.writeString(
        to,
        "# copy of "
            + (from == null ? "the rules in the jar" : from.toString())
            + " with this replay's alert log and metrics port\n"
            + RulesCopy.dump(rules),
        StandardCharsets.UTF_8);
    return to;
  }

  // ---------------------------------------------------------------- output

  private final class Progress {
    private final String label;
    private final LoadGenerator load;
    private final ServiceProcess service;
    private final AgentWatch watch;
    private String phase = "";
    private long phaseStart;
    private long lastPrint;
    private Duration phaseLength = Duration.ZERO;

    Progress(String label, LoadGenerator load, ServiceProcess service, AgentWatch watch) {
      this.label = label;
      this.load = load;
      this.service = service;
      this.watch = watch;
    }

    void phase(String name, Duration length) {
      phase = name;
      phaseLength = length;
      phaseStart = System.nanoTime();
      print(true);
    }

    void waitFor(Duration max, java.util.function.BooleanSupplier done)
        throws InterruptedException {
      long end = System.nanoTime() + max.toNanos();
      while (System.nanoTime() < end && !done.getAsBoolean()) {
        Thread.sleep(100);
        print(false);
      }
    }

    void print(boolean force) {
      long now = System.nanoTime();
      long every = terminal ? 1_000_000_000L : 5_000_000_000L;
      if (!force && now - lastPrint < every) return;
      lastPrint = now;
      String loadPhase =
          switch (phase) {
            case "warmup" -> "warmup";
            case "before" -> "before";
            case "after bad deploy" -> "after";
            case "good pack back" -> "recovered";
            default -> null;
          };
      StringBuilder b = new StringBuilder();
      b.append(
          String.format(
              "[%s] %-16s %3.0f/%.0fs",
              label, phase, (now - phaseStart) / 1e9, phaseLength.toMillis() / 1000.0));
      LoadGenerator.Summary s = loadPhase == null ? null : load.snapshot(loadPhase);
      if (s != null) {
        long resolved = s.delivered() + s.failed();
        b.append(
            String.format(
                "  sent %5d  delivered %5.1f %%",
                s.sent(), resolved == 0 ? 100.0 : 100.0 * s.delivered() / resolved));
      }
      try {
        Map<String, Object> st = service.json("/stats");
        b.append("  queue ")
            .append(st.get("queue_depth"))
            .append('/')
            .append(st.get("queue_capacity"))
            .append("  dead letters ")
            .append(st.get("dead_lettered"));
      } catch (IOException | RuntimeException e) {
        b.append("  (service not answering)");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (watch != null) {
        int k = watch.state();
        b.append("  kill switch ")
            .append(k == 0 ? "closed" : k == 1 ? "OPEN" : k == 2 ? "half-open" : "-");
        if (watch.firstAlert(0, Replay::isFence) != null) b.append("  FENCED");
      }
      if (terminal) {
        progress.print("\r" + b + "\u001b[K");
        progress.flush();
      } else {
        progress.println(b);
      }
    }

    void done() {
      if (terminal) progress.println();
    }
  }

  /** The table as printed; {@link #run} prints it. */
  String table(Report r) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream t = new PrintStream(buf, true, StandardCharsets.UTF_8);
    List<RunResult> runs = r.runs();
    boolean fences = runs.stream().anyMatch(RunResult::autoFence);
    t.println();
    t.printf(
        "Outage replay: %.0f msg/s; the bad pack (alias cycle, max-alias-depth: -1) goes live after %ds, "
            + "the good pack comes back %ds later%s%n",
        options.rate(),
        options.warmup().plus(options.steady()).toSeconds(),
        options.incident().toSeconds(),
        options.autoRollback()
            ? " by hand without Firebreak; with it, the service rolls back on Firebreak's webhook"
            : "");
    t.printf(
        "service: %s; load: open loop, ~5%% of messages carry a celebration shortcode (:tada: and friends)%n",
        serviceConfig);
    for (RunResult x : runs) {
      if (x.agent() && !x.label().startsWith("with Firebreak"))
        t.printf("%s: the rules file %s%n", x.label(), x.rules());
    }
    t.println();
    int width = 20;
    for (RunResult x : runs) width = Math.max(width, x.label().length() + 1);
    String cellFmt = " %-" + width + "s";
    StringBuilder header = new StringBuilder(String.format("  %-46s", ""));
    for (RunResult x : runs) header.append(String.format(cellFmt, x.label()));
    t.println(header.toString().stripTrailing());
    Table tb = new Table(t, runs, cellFmt);
    tb.row(
        "messages sent (before / after the bad deploy)",
        x -> sent(x, "before") + " / " + sent(x, "after"));
    tb.row("success before the bad deploy", x -> pct(x, "before"));
    tb.row("success after the bad deploy", x -> pct(x, "after"));
    tb.row(
        options.autoRollback()
            ? "success after the incident phase"
            : "success after the good pack is back",
        x -> pct(x, "recovered"));
    tb.row(
        "emoji rendered during the incident",
        x ->
            x.phase("after") == null
                ? "-"
                : String.format("%.1f %%", x.phase("after").renderedPct()));
    tb.row(
        "bad deploy to normal rendering",
        x -> x.recoverySeconds() == null ? "never" : String.format("%.1f s", x.recoverySeconds()));
    tb.row("p99 latency before", x -> p99(x, "before"));
    tb.row("p99 latency after", x -> p99(x, "after"));
    tb.row(
        "messages dead-lettered",
        x -> x.deadLettered() < 0 ? "-" : Long.toString(x.deadLettered()));
    tb.row(
        "attempts that overflowed the stack",
        x -> x.stackOverflows() < 0 ? "-" : Long.toString(x.stackOverflows()));
    tb.row(
        "first stack overflow after the bad deploy",
        x ->
            x.firstOverflowSeconds() == null
                ? "none"
                : String.format("%.2f s", x.firstOverflowSeconds()));
    tb.row("first Firebreak alert after the bad deploy", x -> secs(x, x.firstAlertSeconds()));
    if (fences) {
      tb.row("first alert naming EmojiRenderer.expand", x -> secs(x, x.rendererAlertSeconds()));
      tb.row(
          "auto-fence in place after the bad deploy",
          x -> x.autoFence() ? secs(x, x.fenceSeconds()) : "-");
    }
    tb.row(
        "kill switch open after the bad deploy",
        x -> x.killSwitchWatched() ? secs(x, x.killSwitchOpenSeconds()) : "-");
    tb.row(
        options.autoRollback()
            ? "kill switch closed after the incident phase"
            : "kill switch closed after the good pack",
        x -> x.killSwitchWatched() ? secs(x, x.killSwitchClosedSeconds()) : "-");
    if (options.autoRollback()) {
      tb.row(
          "good pack restored (after the bad deploy)",
          x ->
              x.agent()
                  ? (x.rollbackSeconds() == null
                      ? "none"
                      : String.format("%.2f s, by itself", x.rollbackSeconds()))
                  : String.format("%d s, by hand", options.incident().toSeconds()));
    }
    t.println();
    for (RunResult x : runs) {
      if (!x.agent()) continue;
      if (x.alert() != null) {
        printAlert(t, x);
      } else if (!x.phases().isEmpty()) {
        t.println(x.label() + ": no alert was logged");
      }
    }
    for (RunResult x : runs) {
      if (x.note() != null) t.println("note (" + x.label() + "): " + x.note());
    }
    t.printf("replay took %.0f s%n", r.seconds());
    return buf.toString(StandardCharsets.UTF_8);
  }

  private static void printAlert(PrintStream t, RunResult x) {
    Map<String, Object> al = x.alert();
    t.printf(
        "first alert (%s): rule %s on target %s, method %s, action %s, value %s (threshold %s), thread %s%n",
        x.label(),
        al.get("rule"),
        al.get("target"),
        al.get("method"),
        al.get("action"),
        al.get("value"),
        al.get("threshold"),
        al.get("thread"));
    Object stack = al.get("stack");
    if (!(stack instanceof List<?>)) stack = al.get("cycle");
    if (stack instanceof List<?> lines) {
      int n = 0;
      for (Object line : lines) {
        if (n++ == 8) {
          t.printf("    ... (%d more lines)%n", lines.size() - 8);
          break;
        }
        t.println("    " + line);
      }
    }
    t.printf("(%d alert event%s in the run)%n", x.alerts(), x.alerts() == 1 ? "" : "s");
  }

  private interface Cell {
    String of(RunResult r);
  }

  /** Rows of the table: a name, then one cell per run. */
  private record Table(PrintStream out, List<RunResult> runs, String cellFmt) {
    void row(String name, Cell cell) {
      StringBuilder b = new StringBuilder(String.format("  %-46s", name));
      for (RunResult x : runs) b.append(String.format(cellFmt, cellOf(x, cell)));
      out.println(b.toString().stripTrailing());
    }
  }

  private static String cellOf(RunResult r, Cell cell) {
    if (r.phases().isEmpty()) return "n/a";
    return cell.of(r);
  }

  private static String sent(RunResult r, String phase) {
    LoadGenerator.Summary s = r.phase(phase);
    return s == null ? "-" : Long.toString(s.sent());
  }

  private static String pct(RunResult r, String phase) {
    LoadGenerator.Summary s = r.phase(phase);
    return s == null ? "-" : String.format("%.1f %%", s.successPct());
  }

  private static String p99(RunResult r, String phase) {
    LoadGenerator.Summary s = r.phase(phase);
    if (s == null || s.delivered() == 0) return "-";
    return s.p99Ms() >= 100
        ? String.format("%.0f ms", s.p99Ms())
        : String.format("%.1f ms", s.p99Ms());
  }

  private static String secs(RunResult r, Double s) {
    if (!r.agent()) return "-";
    return s == null ? "none" : String.format("%.2f s", s);
  }

  /**
   * The last line of {@code replay --json}: one object, {@code {"runs":[...]}}, each run with its
   * name, whether the agent ran, the rules file, delivery and p99 after the bad deploy, the first
   * alert, the time from the bad deploy to normal rendering ({@code recovery_s}, null when it never
   * came back) and the share of messages with emoji rendered during the incident; then the details,
   * among them the stack overflows ({@code stack_overflows}, the first at {@code first_overflow_s})
   * and, for rules with an auto-fence, when the fence went up ({@code fence_s}) and the first alert
   * naming the renderer ({@code renderer_alert_s}), in seconds from the bad deploy.
   */
  public static Map<String, Object> toJson(Report r) {
    List<Object> runs = new ArrayList<>();
    for (RunResult x : r.runs()) runs.add(runJson(x));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runs", runs);
    m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
    return m;
  }

  private static Map<String, Object> runJson(RunResult x) {
    Map<String, Object> m = new LinkedHashMap<>();
    LoadGenerator.Summary after = x.phase("after");
    m.put("name", x.label());
    m.put("agent", x.agent());
    m.put("rules", x.rules());
    m.put("delivered_after_pct", after == null ? null : round2(after.successPct()));
    m.put("p99_after_ms", after == null || after.delivered() == 0 ? null : after.p99Ms());
    m.put("first_alert_s", x.firstAlertSeconds());
    m.put("recovery_s", x.phases().isEmpty() ? null : x.recoverySeconds());
    m.put("rendered_pct", after == null ? null : round2(after.renderedPct()));
    m.put("rollback_s", x.rollbackSeconds());
    m.put("kill_switch_open_s", x.killSwitchOpenSeconds());
    m.put("kill_switch_closed_s", x.killSwitchClosedSeconds());
    m.put("dead_lettered", x.deadLettered());
    m.put("stack_overflows", x.stackOverflows());
    m.put("first_overflow_s", x.firstOverflowSeconds());
    m.put("auto_fence", x.autoFence());
    m.put("fence_s", x.fenceSeconds());
    m.put("renderer_alert_s", x.rendererAlertSeconds());
    Map<String, Object> phases = new LinkedHashMap<>();
    for (Map.Entry<String, LoadGenerator.Summary> e : x.phases().entrySet()) {
      phases.put(e.getKey(), new Json.RawJson(e.getValue().json()));
    }
    m.put("phases", phases);
    m.put("alert", x.alert());
    m.put("alerts", x.alerts());
    m.put("note", x.note());
    return m;
  }

  private static double round2(double d) {
    return Math.round(d * 100) / 100.0;
  }

  /** Deletes a directory of temp files, as far as it can. */
  public static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      // temp files; nothing to do
    }
  }
}
