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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The outage replay: the chat service is started twice as a child JVM, once without and once with
 * the Firebreak agent. Each time it gets a steady open-loop load, then the bad emoji pack is
 * deployed while the load goes on, then the good pack is deployed again. Everything in the printed
 * table is measured during the run.
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
      Path report) {}

  /** What one run measured. */
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
      List<Timeline.Second> timeline) {
    public LoadGenerator.Summary phase(String name) {
      return phases.get(name);
    }

    static RunResult failed(String label, boolean agent, String note) {
      return new RunResult(
          label, agent, Map.of(), -1, null, null, null, null, 0, note, null, null, null, 0,
          List.of());
    }
  }

  /** Both runs (either may be null when it was not asked for). */
  public record Report(
      Options options, RunResult withoutAgent, RunResult withAgent, double seconds) {}

  public static final String TARGET = "emoji-render";

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

  public static int main(List<String> argv) throws IOException, InterruptedException {
    Args a =
        new Args(
            argv, Set.of("without-agent-only", "with-agent-only", "json", "keep", "auto-rollback"));
    Path jar = ownJar();
    String agentOpt = a.string("agent", System.getProperty("firebreak.agent.jar"));
    String rulesOpt = a.string("rules", System.getProperty("firebreak.rules"));
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
            reportOpt != null ? Path.of(reportOpt) : null);
    boolean json = a.flag("json");
    a.rejectUnknown();
    if (withOnly && withoutOnly)
      throw new Args.UsageException(
          "--with-agent-only and --without-agent-only exclude each other");
    Report r = new Replay(o, System.out, System.err).run();
    if (json) System.out.println(Json.write(toJson(r)));
    boolean failed =
        (r.withoutAgent() != null && r.withoutAgent().phases().isEmpty())
            || (r.withAgent() != null
                && r.withAgent().phases().isEmpty()
                && o.agentJar() != null
                && Files.exists(o.agentJar()));
    return failed ? 1 : 0;
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
    RunResult without = null;
    RunResult with = null;
    try {
      progress.printf(
          "Firebreak outage replay: the emoji pack update '%s' goes live under %.0f msg/s%n",
          options.badPack(), options.rate());
      if (options.withoutAgent()) without = safeRun("without Firebreak", false, dir);
      if (options.withAgent()) {
        if (options.agentJar() == null || !Files.isRegularFile(options.agentJar())) {
          String note =
              "agent jar not found at "
                  + options.agentJar()
                  + " (build it with: mvn -q -DskipTests package; or pass --agent PATH)";
          progress.println("replay: " + note + "; skipping the run with Firebreak");
          with = RunResult.failed(withLabel(), true, note);
        } else {
          with = safeRun(withLabel(), true, dir);
        }
      }
    } finally {
      if (!options.keepFiles()) deleteTree(dir);
      else progress.println("replay: files kept in " + dir);
    }
    Report r = new Report(options, without, with, (System.nanoTime() - start) / 1e9);
    String table = table(r);
    out.print(table);
    if (options.report() != null) {
      Path svg = ReplayReport.write(options.report(), r, table);
      progress.println("replay: report written to " + options.report() + " and " + svg);
    }
    return r;
  }

  private RunResult safeRun(String label, boolean agent, Path dir) throws InterruptedException {
    try {
      return runOnce(label, agent, dir);
    } catch (IOException e) {
      progress.println("[" + label + "] the run failed: " + e.getMessage());
      return RunResult.failed(label, agent, "the run failed: " + e.getMessage());
    }
  }

  private String withLabel() {
    return options.autoRollback() ? "with Firebreak + rollback" : "with Firebreak";
  }

  private RunResult runOnce(String label, boolean agent, Path dir)
      throws IOException, InterruptedException {
    String tag = agent ? "with" : "without";
    boolean rollback = agent && options.autoRollback();
    List<String> jvm = new ArrayList<>();
    List<String> serveArgs =
        new ArrayList<>(List.of("--max-retries", Integer.toString(options.maxRetries())));
    Path alertLog = null;
    int metricsPort = -1;
    int servicePort = ServiceProcess.freePort();
    if (agent) {
      alertLog = dir.resolve("alerts-" + tag + ".jsonl");
      metricsPort = ServiceProcess.freePort();
      Path token = null;
      if (rollback) {
        token = RulesCopy.writeAdminToken(dir.resolve("admin-token"));
        serveArgs.addAll(
            List.of(
                "--rollback-on-firebreak",
                "--firebreak-admin",
                "http://127.0.0.1:" + metricsPort,
                "--firebreak-token-file",
                token.toString()));
      }
      Path rules =
          writeRules(
              dir.resolve("emoji-pipeline.yaml"),
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
              if (closedAt[0] < 0 && (watch.state() == 0)) closedAt[0] = System.nanoTime();
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
      Double rolledBack = null;
      try {
        if (rollback) {
          Map<String, Object> pack = service.json("/admin/emoji-pack");
          if (String.valueOf(pack.get("source")).startsWith("rollback:"))
            rolledBack = seconds(((Number) pack.get("changed_at")).longValue() - badDeploy);
        }
        dead = ((Number) service.json("/dead-letters").get("count")).longValue();
        Map<String, Object> st = service.json("/stats");
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
      Map<String, Object> alert = null;
      int alerts = 0;
      String note = null;
      if (watch != null) {
        watch.close();
        alert = watch.firstAlert(badDeploy);
        alerts = watch.alerts().size();
        if (alert != null) firstAlert = seconds(watch.alertMicros(alert) - badDeploy);
        long o = watch.firstState(1, badDeploy);
        if (o > 0) open = seconds(o - badDeploy);
        if (stateAtGoodDeploy == 0) {
          closed = 0.0;
        } else {
          long c = watch.firstState(0, goodDeploy);
          if (c > 0) closed = seconds(c - goodDeploy);
        }
        if (!watch.metricsUp()) note = "the agent's /metrics never answered on port " + metricsPort;
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
          load.timeline());
    }
  }

  private static double seconds(long micros) {
    return Math.round(micros / 10_000.0) / 100.0;
  }

  /**
   * A copy of the rules file with the alert log and the metrics port this run uses (the rest is
   * exactly what the SRE wrote).
   */
  Path writeRules(Path to, Path alertLog, int metricsPort) throws IOException {
    return writeRules(to, alertLog, metricsPort, null, null);
  }

  private Path writeRules(Path to, Path alertLog, int metricsPort, String webhook, Path token)
      throws IOException {
    Map<String, Object> rules = RulesCopy.parse(RulesCopy.read(options.rules()));
    RulesCopy.forRun(rules, alertLog, metricsPort);
    if (webhook != null) RulesCopy.rollbackLoop(rules, webhook, token);
    Files.writeString(
        to,
        "# copy of "
            + (options.rules() == null ? "the rules in the jar" : options.rules().toString())
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
            .append(k == 0 ? "closed" : k == 1 ? "OPEN" : k == 2 ? "half-open" : "?");
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
    RunResult a = r.withoutAgent();
    RunResult b = r.withAgent();
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
        "service: %s; load: open loop, ~5%% of messages carry a celebration shortcode (:tada: and friends)%n%n",
        serviceConfig);
    String fmt = "  %-46s %-20s %-20s%n";
    t.printf(fmt, "", "without Firebreak", b == null ? withLabel() : b.label());
    row(
        t,
        fmt,
        "messages sent (before / after the bad deploy)",
        a,
        b,
        x -> sent(x, "before") + " / " + sent(x, "after"));
    row(t, fmt, "success before the bad deploy", a, b, x -> pct(x, "before"));
    row(t, fmt, "success after the bad deploy", a, b, x -> pct(x, "after"));
    row(
        t,
        fmt,
        options.autoRollback()
            ? "success after the incident phase"
            : "success after the good pack is back",
        a,
        b,
        x -> pct(x, "recovered"));
    row(
        t,
        fmt,
        "emoji rendered during the incident",
        a,
        b,
        x ->
            x.phase("after") == null
                ? "-"
                : String.format("%.1f %%", x.phase("after").renderedPct()));
    row(
        t,
        fmt,
        "bad deploy to normal rendering",
        a,
        b,
        x -> x.recoverySeconds() == null ? "never" : String.format("%.1f s", x.recoverySeconds()));
    row(t, fmt, "p99 latency before", a, b, x -> p99(x, "before"));
    row(t, fmt, "p99 latency after", a, b, x -> p99(x, "after"));
    row(
        t,
        fmt,
        "messages dead-lettered",
        a,
        b,
        x -> x.deadLettered() < 0 ? "-" : Long.toString(x.deadLettered()));
    row(
        t,
        fmt,
        "first Firebreak alert after the bad deploy",
        a,
        b,
        x -> secs(x, x.firstAlertSeconds()));
    row(
        t,
        fmt,
        "kill switch open after the bad deploy",
        a,
        b,
        x -> secs(x, x.killSwitchOpenSeconds()));
    row(
        t,
        fmt,
        options.autoRollback()
            ? "kill switch closed after the incident phase"
            : "kill switch closed after the good pack",
        a,
        b,
        x -> secs(x, x.killSwitchClosedSeconds()));
    if (options.autoRollback()) {
      row(
          t,
          fmt,
          "good pack restored (after the bad deploy)",
          a,
          b,
          x ->
              x.agent()
                  ? (x.rollbackSeconds() == null
                      ? "none"
                      : String.format("%.2f s, by itself", x.rollbackSeconds()))
                  : String.format("%d s, by hand", options.incident().toSeconds()));
    }
    t.println();
    if (b != null && b.alert() != null) {
      Map<String, Object> al = b.alert();
      t.printf(
          "first alert (with Firebreak): rule %s on target %s, method %s, action %s, value %s (threshold %s), thread %s%n",
          al.get("rule"),
          al.get("target"),
          al.get("method"),
          al.get("action"),
          al.get("value"),
          al.get("threshold"),
          al.get("thread"));
      Object stack = al.get("stack");
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
      t.printf("(%d alert event%s in the run)%n", b.alerts(), b.alerts() == 1 ? "" : "s");
    } else if (b != null && !b.phases().isEmpty()) {
      t.println("with Firebreak: no alert was logged");
    }
    for (RunResult x : new RunResult[] {a, b}) {
      if (x != null && x.note() != null) t.println("note (" + x.label() + "): " + x.note());
    }
    t.printf("replay took %.0f s%n", r.seconds());
    return buf.toString(StandardCharsets.UTF_8);
  }

  private interface Cell {
    String of(RunResult r);
  }

  private static void row(
      PrintStream t, String fmt, String name, RunResult a, RunResult b, Cell cell) {
    t.printf(fmt, name, cellOf(a, cell), cellOf(b, cell));
  }

  private static String cellOf(RunResult r, Cell cell) {
    if (r == null) return "(not run)";
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
   * came back) and the share of messages with emoji rendered during the incident; then the details.
   */
  public static Map<String, Object> toJson(Report r) {
    List<Object> runs = new ArrayList<>();
    for (RunResult x : new RunResult[] {r.withoutAgent(), r.withAgent()}) {
      if (x != null) runs.add(runJson(r.options(), x));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runs", runs);
    m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
    return m;
  }

  private static Map<String, Object> runJson(Options o, RunResult x) {
    Map<String, Object> m = new LinkedHashMap<>();
    LoadGenerator.Summary after = x.phase("after");
    m.put("name", x.label());
    m.put("agent", x.agent());
    m.put(
        "rules",
        !x.agent() ? null : o.rules() == null ? "(the copy in the jar)" : o.rules().toString());
    m.put("delivered_after_pct", after == null ? null : round2(after.successPct()));
    m.put("p99_after_ms", after == null || after.delivered() == 0 ? null : after.p99Ms());
    m.put("first_alert_s", x.firstAlertSeconds());
    m.put("recovery_s", x.phases().isEmpty() ? null : x.recoverySeconds());
    m.put("rendered_pct", after == null ? null : round2(after.renderedPct()));
    m.put("rollback_s", x.rollbackSeconds());
    m.put("kill_switch_open_s", x.killSwitchOpenSeconds());
    m.put("kill_switch_closed_s", x.killSwitchClosedSeconds());
    m.put("dead_lettered", x.deadLettered());
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
