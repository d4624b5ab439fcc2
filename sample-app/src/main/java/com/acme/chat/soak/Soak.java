package com.acme.chat.soak;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.replay.AgentCli;
import com.acme.chat.replay.AgentWatch;
import com.acme.chat.replay.Alertmanager;
import com.acme.chat.replay.PromText;
import com.acme.chat.replay.Replay;
import com.acme.chat.replay.RulesCopy;
import com.acme.chat.replay.ServiceProcess;
import com.acme.chat.util.Args;
import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The chaos soak: the chat service (a child JVM) runs with the Firebreak agent under open-loop load
 * while a schedule of ordinary production events cycles until the duration ends: the bad and good
 * emoji packs alternate, the rules file is rewritten (valid variants, invalid ones, one without the
 * renderer target and back), the admin endpoints open and close kill switches, a real Alertmanager
 * is stopped and started, {@code attach} replaces the rules and {@code attach --detach} + re-attach
 * run while messages are being processed. Short load pauses let it look at the agent's state when
 * nothing runs.
 *
 * <p>It passes only if every promise held throughout ({@link SoakFindings#checks()}): no message
 * lost, good-pack phases deliver, in-flight gauges back to 0 at every pause, kill switches closed
 * within open-for + 5 s, no agent error, no heap growth, {@code /metrics} answering within 1 s, and
 * every action of the schedule took effect.
 */
public final class Soak {
  /** What to run. */
  public record Options(
      Path appJar,
      Path agentJar,
      Path rules,
      Path alertmanager,
      Duration duration,
      double rate,
      Duration warmup,
      Duration step,
      Duration openFor,
      boolean keepFiles) {}

  /** One check of the verdict, with the figures behind it. */
  public record Check(String name, boolean passed, List<String> details) {}

  /** The verdict; {@code files} is where the logs were kept (null when they were deleted). */
  public record Report(List<Check> checks, int cycles, double seconds, Path files, String summary) {
    public boolean passed() {
      return !checks.isEmpty() && checks.stream().allMatch(Check::passed);
    }

    public List<Check> failed() {
      return checks.stream().filter(c -> !c.passed()).toList();
    }
  }

  /**
   * The kinds of {@code firebreak_agent_errors_total} the schedule may make rise: none. What the
   * agent counts for each thing the schedule does (AgentRuntime, AlertDispatcher):
   *
   * <ul>
   *   <li>an invalid rules file: {@code firebreak_rules_reloads_total{result="failure"}} and a
   *       "rules reload failed" line, which counts no agent error;
   *   <li>Alertmanager stopped: {@code firebreak_alerts_total{sink="alertmanager",result="failed"}}
   *       (or {@code dropped}), and a news line, no agent error;
   *   <li>admin open and close, attach, attach --detach, a target dropped and re-added, the packs:
   *       news lines at most.
   * </ul>
   *
   * So any kind that rises is an error of the agent's own.
   */
  static final Set<String> PROVOKED_ERROR_KINDS = Set.of();

  static final Duration RELOAD_INTERVAL = Duration.ofSeconds(1);

  /**
   * How long after the good pack (or an open by hand) every kill switch must be closed, beyond
   * open-for.
   */
  static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  /**
   * How long a pause waits for the service to finish what it has (a dead-lettered message takes ~10
   * s of retries).
   */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(20);

  /**
   * Messages the service keeps a room: reached in the warm-up, so the rooms do not grow the heap
   * after it.
   */
  static final int RETAIN = 1000;

  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
  static final String BAD_PACK = "bad-update";

  private final Options options;
  private final PrintStream out;
  private final PrintStream progress;

  public Soak(Options options, PrintStream out, PrintStream progress) {
    this.options = options;
    this.out = out;
    this.progress = progress;
  }

  // ---------------------------------------------------------------- command line

  public static int main(List<String> argv) throws IOException, InterruptedException {
    if (System.getProperty(CLIENT_POOL_PROPERTY) == null)
      System.setProperty(CLIENT_POOL_PROPERTY, CLIENT_POOL_SIZE);
    Args a = new Args(argv, Set.of("keep", "json"));
    Path jar = Replay.ownJar();
    String agentOpt = a.string("agent", System.getProperty("firebreak.agent.jar"));
    String rulesOpt = a.string("rules", System.getProperty("firebreak.rules"));
    String amOpt = a.string("alertmanager", null);
    String appOpt = a.string("app-jar", null);
    Options o =
        new Options(
            appOpt != null ? Path.of(appOpt) : jar,
            agentOpt != null ? Path.of(agentOpt).toAbsolutePath() : Replay.findAgent(jar),
            rulesOpt != null ? Path.of(rulesOpt) : Replay.findRules(jar),
            amOpt != null ? Path.of(amOpt) : Alertmanager.find(),
            a.duration("duration", Duration.ofMinutes(10)),
            a.decimal("rate", 200),
            a.duration("warmup", Duration.ofSeconds(10)),
            a.duration("step", Duration.ofSeconds(3)),
            a.duration("open-for", Duration.ofSeconds(3)),
            a.flag("keep"));
    boolean json = a.flag("json");
    a.rejectUnknown();
    if (o.duration().toSeconds() < 30
        || o.rate() <= 0
        || o.warmup().isNegative()
        || o.step().toMillis() < 1000
        || o.openFor().toMillis() < 1000) {
      throw new Args.UsageException(
          "--duration must be >= 30s, --rate > 0, --warmup >= 0, --step and --open-for >= 1s");
    }
    if (o.agentJar() == null || !Files.isRegularFile(o.agentJar())) {
      System.err.println(
          "soak: no agent jar at "
              + o.agentJar()
              + " (build it: mvn -q -DskipTests package; or --agent PATH)");
      return 1;
    }
    if (o.alertmanager() == null || !Files.isExecutable(o.alertmanager())) {
      System.err.println(
          "soak: no Alertmanager binary (apt-get install prometheus-alertmanager; or --alertmanager PATH, "
              + "or FIREBREAK_ALERTMANAGER)");
      return 1;
    }
    Report r = new Soak(o, System.out, System.err).run();
    if (json) System.out.println(Json.write(toJson(r)));
    return r.passed() ? 0 : 1;
  }

  static Map<String, Object> toJson(Report r) {
    List<Object> checks = new ArrayList<>();
    for (Check c : r.checks())
      checks.add(Json.obj("name", c.name(), "passed", c.passed(), "details", c.details()));
    return Json.obj(
        "passed",
        r.passed(),
        "seconds",
        Math.round(r.seconds()),
        "cycles",
        r.cycles(),
        "checks",
        checks,
        "files",
        r.files() == null ? null : r.files().toString());
  }

  // ---------------------------------------------------------------- the run

  /**
   * The JDK HTTP client keeps every connection it ever opened (and the service's HTTP server its
   * buffers, ~27 KB each) unless this bounds its pool: a stall of the service makes the open-loop
   * load open dozens more, and the heap check would measure them. Bounded, the connections left at
   * a pause are the same few every time. Set before the client's pool class loads (Soak.main does;
   * failsafe's configuration does for SoakIT).
   */
  static final String CLIENT_POOL_PROPERTY = "jdk.httpclient.connectionPoolSize";

  static final String CLIENT_POOL_SIZE = "16";

  public Report run() throws IOException, InterruptedException {
    if (System.getProperty(CLIENT_POOL_PROPERTY) == null)
      System.setProperty(CLIENT_POOL_PROPERTY, CLIENT_POOL_SIZE);
    long begin = System.nanoTime();
    Path dir = Files.createTempDirectory("firebreak-soak-");
    SoakFindings f = new SoakFindings(Clock.nowMicros(), PROVOKED_ERROR_KINDS);
    String failure = null;
    try {
      runIn(dir, f);
    } catch (IOException | RuntimeException e) {
      failure = e.getClass().getSimpleName() + ": " + e.getMessage();
      progress.println("soak: " + failure);
    }
    List<Check> checks = new ArrayList<>();
    if (failure != null) checks.add(new Check("the soak ran to the end", false, List.of(failure)));
    if (f.load != null || failure == null) checks.addAll(f.checks());
    boolean passed = checks.stream().allMatch(Check::passed);
    Path kept = null;
    if (passed && !options.keepFiles()) Replay.deleteTree(dir);
    else kept = dir;
    double seconds = (System.nanoTime() - begin) / 1e9;
    String summary = summary(f, checks, seconds, kept);
    out.print(summary);
    return new Report(checks, f.cycles, seconds, kept, summary);
  }

  private void runIn(Path dir, SoakFindings f) throws IOException, InterruptedException {
    progress.printf("soak: starting Alertmanager (%s)%n", options.alertmanager());
    try (Alertmanager am =
        Alertmanager.start(
            options.alertmanager(), dir.resolve("alertmanager"), Alertmanager.BLACKHOLE_CONFIG)) {
      Path token = RulesCopy.writeAdminToken(dir.resolve("admin-token"));
      int metricsPort = ServiceProcess.freePort();
      Path alertLog = dir.resolve("alerts.jsonl");
      SoakRules rules =
          new SoakRules(
              RulesCopy.read(options.rules()),
              alertLog,
              metricsPort,
              am.uri(""),
              token,
              options.openFor(),
              RELOAD_INTERVAL);
      checkVariants(rules, dir.resolve("variants"));
      Path first = dir.resolve("rules.yaml");
      Files.writeString(first, rules.base().text(), StandardCharsets.UTF_8);
      progress.printf(
          "soak: starting the chat service with -javaagent:%s=rules=%s%n",
          options.agentJar().getFileName(), first);
      try (ServiceProcess service =
              ServiceProcess.start(
                  options.appJar(),
                  List.of("-javaagent:" + options.agentJar().toAbsolutePath() + "=rules=" + first),
                  List.of("--retain", Integer.toString(RETAIN)),
                  dir.resolve("service.log"),
                  Duration.ofSeconds(60));
          AgentWatch watch = new AgentWatch(metricsPort, alertLog, null, Duration.ofMillis(250))) {
        new Run(
                f,
                service,
                watch,
                am,
                rules,
                first,
                dir.resolve("rules-attached.yaml"),
                token,
                metricsPort)
            .go();
      }
    }
  }

  /**
   * The variants must be what the schedule takes them for, or a check could pass for the wrong
   * reason: every valid one passes the agent's {@code validate}, each invalid one fails it.
   */
  private void checkVariants(SoakRules rules, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    List<String> valid = new ArrayList<>(List.of("validate"));
    List<SoakRules.Variant> all = new ArrayList<>(rules.valid());
    all.add(rules.withoutRenderer());
    for (int i = 0; i < all.size(); i++) {
      Path p =
          Files.writeString(
              dir.resolve("valid-" + i + ".yaml"), all.get(i).text(), StandardCharsets.UTF_8);
      valid.add(p.toString());
    }
    AgentCli.Result r = AgentCli.run(options.agentJar(), valid, Duration.ofSeconds(60));
    if (r.exitCode() != 0)
      throw new IOException(
          "the agent's validate rejects a variant the soak takes for valid:\n" + r.output());
    List<SoakRules.Variant> invalid = rules.invalid();
    for (int i = 0; i < invalid.size(); i++) {
      Path p =
          Files.writeString(
              dir.resolve("invalid-" + i + ".yaml"), invalid.get(i).text(), StandardCharsets.UTF_8);
      AgentCli.Result ri =
          AgentCli.run(
              options.agentJar(), List.of("validate", p.toString()), Duration.ofSeconds(60));
      if (ri.exitCode() != 1) {
        throw new IOException(
            "the agent's validate exits "
                + ri.exitCode()
                + ", not 1, on '"
                + invalid.get(i).name()
                + "':\n"
                + ri.output());
      }
    }
  }

  /**
   * Something the schedule does; an IOException is noted as a problem of the schedule and the soak
   * goes on.
   */
  private interface Action {
    void run() throws IOException, InterruptedException;
  }

  /** One run of the schedule against one service. */
  private final class Run {
    private final SoakFindings f;
    private final ServiceProcess service;
    private final AgentWatch watch;
    private final Alertmanager am;
    private final SoakRules rules;
    private final Path fileA;
    private final Path fileB;
    private final String token;
    private final int metricsPort;
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final long windowMicros = options.openFor().plus(CLOSE_GRACE).toNanos() / 1000;
    private final List<SoakRules.Variant> valid;
    private final List<SoakRules.Variant> invalid;
    private LoadGenerator load;
    private Path rulesFile;
    private SoakRules.Variant inForce;
    private int nextValid = 1;
    private int nextInvalid;
    private int cycle;

    Run(
        SoakFindings f,
        ServiceProcess service,
        AgentWatch watch,
        Alertmanager am,
        SoakRules rules,
        Path fileA,
        Path fileB,
        Path token,
        int metricsPort)
        throws IOException {
      this.f = f;
      this.service = service;
      this.watch = watch;
      this.am = am;
      this.rules = rules;
      this.fileA = fileA;
      this.fileB = fileB;
      this.token = Files.readString(token).trim();
      this.metricsPort = metricsPort;
      this.valid = rules.valid();
      this.invalid = rules.invalid();
      this.rulesFile = fileA;
      this.inForce = rules.base();
    }

    void go() throws IOException, InterruptedException {
      if (!awaitRules(inForce, fileA, Duration.ofSeconds(60))) {
        throw new IOException(
            "the agent did not put " + fileA + " in force within 60 s:\n" + service.logTail(20));
      }
      PromText first = watch.scrape();
      f.errorsAtStart =
          first == null ? Map.of() : first.byLabel("firebreak_agent_errors_total", "kind");
      // a request answered late is not a lost message: the time it took counts against the
      // 5 s delivery deadline (and the 99 %), not as a failed request
      LoadGenerator.Options lo =
          LoadGenerator.Options.defaults(service.uri())
              .withRate(options.rate())
              .withDuration(Duration.ofDays(1)) // stopped by the soak
              .withRequestTimeout(REQUEST_TIMEOUT);
      f.deadline = lo.deadline().toSeconds() + " s";
      load = new LoadGenerator(lo);
      load.keepLost();
      load.phase(SoakFindings.WARMUP);
      load.start("soak-load");
      long end = System.nanoTime() + options.duration().toNanos();
      try {
        // a fresh JVM (both sides) first: JIT, connections; its figures are shown apart
        f.stepStarted(Clock.nowMicros(), "warm-up");
        printProgress("warm-up");
        Thread.sleep(options.warmup().toMillis());
        long cycleNanos;
        do {
          long c0 = System.nanoTime();
          cycle(++f.cycles);
          cycleNanos = System.nanoTime() - c0;
          if (f.cycles == 1)
            f.heapAfterWarmup = f.heapPerCycle.isEmpty() ? -1 : f.heapPerCycle.get(0);
        } while (f.cycles < 2 || System.nanoTime() + cycleNanos <= end);
        cycle = 0;
        long left = end - System.nanoTime();
        if (left > 0) step("steady load until the end", true, Duration.ofNanos(left), null);
        SoakFindings.Pause last = pause("at the end", true, true);
        f.heapAtEnd = last.heapBytes();
      } finally {
        f.load = load.finish();
      }
      f.unseen = load.lost();
      readDeadLetters();
      PromText end0 = watch.scrape();
      if (end0 != null) {
        f.errorsAtEnd = end0.byLabel("firebreak_agent_errors_total", "kind");
        noteErrors(end0);
        f.alertFigures = figures(end0);
      }
      f.scrapes = watch.scrapes();
      f.badScrapeCount = watch.badScrapeCount();
      f.badScrapes = watch.badScrapes();
      f.scrapeMicros = watch.scrapeLatencies();
      if (!service.alive()) f.scheduleProblems.add("the service died:\n" + service.logTail(20));
    }

    /**
     * One cycle of the schedule; the first is the warm-up (every action once before the heap
     * baseline).
     */
    private void cycle(int n) throws IOException, InterruptedException {
      cycle = n;
      Duration s = options.step();
      step("good pack, rules rewritten", true, s, () -> writeRules(nextValid()));
      step(
          "bad pack deployed, rules rewritten",
          false,
          s,
          () -> {
            service.deployPack(BAD_PACK);
            f.badPacks++;
            writeRules(nextValid());
          });
      step(
          "bad pack, Alertmanager down, invalid rules written",
          false,
          s,
          () -> {
            am.stop();
            writeRules(invalid.get(nextInvalid++ % invalid.size()));
          });
      step(
          "bad pack, Alertmanager back, rules rewritten",
          false,
          s,
          () -> {
            am.start();
            f.alertmanagerRestarts++;
            writeRules(nextValid());
          });
      long[] at = new long[1];
      step(
          "good pack back",
          true,
          Duration.ZERO,
          () -> {
            at[0] = Clock.nowMicros();
            service.deployPack("default");
          });
      closeDeadline("the good pack back", at[0]);
      pause("after the good pack", false, false);
      step(
          "admin: lookup switch opened and closed by hand, renderer switch opened by hand",
          true,
          s,
          () -> {
            admin(SoakRules.LOOKUP, true);
            Thread.sleep(s.toMillis() / 2);
            admin(SoakRules.LOOKUP, false);
            at[0] = Clock.nowMicros();
            admin(SoakRules.RENDERER, true);
          });
      closeDeadline("the renderer's switch opened by hand", at[0]);
      step(
          "rules without the renderer target",
          true,
          s,
          () -> {
            writeRules(rules.withoutRenderer());
            f.renderDrops++;
          });
      step("rules with the renderer target again", true, s, () -> writeRules(nextValid()));
      pause("after the renderer target was dropped and re-added", false, false);
      step("attach with other rules", true, s, this::attachOther);
      step("attach --detach", true, Duration.ofMillis(s.toMillis() / 2), this::detach);
      step("re-attach", true, s, this::reattach);
      SoakFindings.Pause p = pause("after detach and re-attach", true, false);
      f.heapPerCycle.add(p.heapBytes());
    }

    private void step(String name, boolean goodPack, Duration length, Action action)
        throws IOException, InterruptedException {
      if (!service.alive()) throw new IOException("the service exited:\n" + service.logTail(20));
      String label = (cycle > 0 ? "cycle " + cycle + ", " : "") + "'" + name + "'";
      load.phase(SoakFindings.phase(cycle, goodPack, name));
      f.stepStarted(Clock.nowMicros(), label);
      long start = System.nanoTime();
      printProgress(label);
      if (action != null) {
        try {
          action.run();
        } catch (IOException e) {
          f.scheduleProblems.add(f.clock(Clock.nowMicros()) + " " + label + ": " + e.getMessage());
        }
      }
      sleepUntil(start + length.toNanos());
    }

    private void printProgress(String label) {
      StringBuilder b =
          new StringBuilder(String.format("[soak %s] %s", f.clock(Clock.nowMicros()), label));
      try {
        Map<String, Object> st = service.json("/stats");
        b.append(
            String.format(
                " | accepted %s, delivered %s, dead letters %s, queue %s",
                st.get("accepted"),
                st.get("delivered"),
                st.get("dead_lettered"),
                st.get("queue_depth")));
      } catch (IOException | RuntimeException e) {
        b.append(" | service not answering");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      List<String> open = new ArrayList<>();
      for (String t : List.of(SoakRules.RENDERER, SoakRules.LOOKUP)) {
        int st = watch.state(t);
        if (st > 0) open.add(t + (st == 1 ? " open" : " half-open"));
      }
      if (!open.isEmpty()) b.append(" | ").append(String.join(", ", open));
      progress.println(b);
    }

    // ------------------------------------------------------------ the rules file

    private SoakRules.Variant nextValid() {
      SoakRules.Variant v = valid.get(nextValid++ % valid.size());
      return v.text().equals(inForce.text()) ? valid.get(nextValid++ % valid.size()) : v;
    }

    /**
     * Rewrites the rules file in force and waits for the agent's answer: a valid file in force
     * ({@code firebreak_rules_info} names its sha256), an invalid one rejected (one more reload
     * failure, the last good file still in force).
     */
    private void writeRules(SoakRules.Variant v) throws IOException, InterruptedException {
      PromText before = watch.scrape();
      double failures =
          before == null ? 0 : before.value("firebreak_rules_reloads_total", "result", "failure");
      Files.writeString(rulesFile, v.text(), StandardCharsets.UTF_8);
      f.rulesWritten++;
      Duration wait = RELOAD_INTERVAL.multipliedBy(3).plusSeconds(5);
      if (v.valid()) {
        if (awaitRules(v, rulesFile, wait)) inForce = v;
        else
          throw new IOException(
              "rules '"
                  + v.name()
                  + "' not in force "
                  + wait.toSeconds()
                  + " s after they were written ("
                  + rulesInForce(watch.scrape())
                  + ")");
        return;
      }
      f.invalidWritten++;
      long until = System.nanoTime() + wait.toNanos();
      while (System.nanoTime() < until) {
        PromText m = watch.scrape();
        if (m != null && m.value("firebreak_rules_reloads_total", "result", "failure") > failures) {
          if (!inForce.sha256().equals(sha(m))) {
            throw new IOException(
                "after the invalid rules '"
                    + v.name()
                    + "' the last good rules are not in force ("
                    + rulesInForce(m)
                    + ", expected "
                    + inForce.sha256().substring(0, 12)
                    + ")");
          }
          return;
        }
        Thread.sleep(100);
      }
      throw new IOException(
          "invalid rules '"
              + v.name()
              + "' not rejected within "
              + wait.toSeconds()
              + " s: firebreak_rules_reloads_total{result=\"failure\"} stayed "
              + failures
              + " ("
              + rulesInForce(watch.scrape())
              + ")");
    }

    /**
     * True once {@code firebreak_rules_info} names {@code v}'s sha256 and {@code file} as the
     * source.
     */
    private boolean awaitRules(SoakRules.Variant v, Path file, Duration timeout)
        throws InterruptedException {
      long until = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < until) {
        PromText m = watch.scrape();
        if (m != null
            && v.sha256().equals(sha(m))
            && file.toAbsolutePath().toString().equals(source(m))) return true;
        Thread.sleep(100);
      }
      return false;
    }

    private static String sha(PromText m) {
      List<PromText.Sample> info = m.all("firebreak_rules_info");
      return info.isEmpty() ? null : info.get(0).label("sha256");
    }

    private static String source(PromText m) {
      List<PromText.Sample> info = m.all("firebreak_rules_info");
      return info.isEmpty() ? null : info.get(0).label("source");
    }

    private String rulesInForce(PromText m) {
      if (m == null) return "/metrics did not answer";
      String sha = sha(m);
      return "in force: "
          + source(m)
          + " sha256 "
          + (sha == null || sha.length() < 12 ? sha : sha.substring(0, 12));
    }

    // ------------------------------------------------------------ attach

    /**
     * {@code attach PID FILE} with the other rules file: the agent swaps in its rules, and watches
     * that file from now on.
     */
    private void attachOther() throws IOException, InterruptedException {
      Path other = rulesFile.equals(fileA) ? fileB : fileA;
      SoakRules.Variant v = nextValid();
      Files.writeString(other, v.text(), StandardCharsets.UTF_8);
      f.attaches++;
      attach(other.toString());
      rulesFile = other;
      if (!awaitRules(v, other, Duration.ofSeconds(5))) {
        throw new IOException(
            "after attach "
                + other.getFileName()
                + " its rules are not in force ("
                + rulesInForce(watch.scrape())
                + ")");
      }
      inForce = v;
    }

    private void detach() throws IOException, InterruptedException {
      f.detaches++;
      attach("--detach");
      PromText m = watch.scrape();
      if (m == null || !"detached".equals(source(m))) {
        throw new IOException(
            "after attach --detach the agent reports " + rulesInForce(m) + ", not detached");
      }
    }

    private void reattach() throws IOException, InterruptedException {
      attach(rulesFile.toString());
      if (!awaitRules(inForce, rulesFile, Duration.ofSeconds(5))) {
        throw new IOException(
            "after the re-attach the rules are not in force ("
                + rulesInForce(watch.scrape())
                + ")");
      }
    }

    private void attach(String what) throws IOException, InterruptedException {
      AgentCli.Result r =
          AgentCli.run(
              options.agentJar(),
              List.of("attach", Long.toString(service.pid()), what),
              Duration.ofSeconds(90));
      if (r.exitCode() != 0) {
        throw new IOException(
            "attach "
                + what
                + " exited with "
                + r.exitCode()
                + " after "
                + r.millis()
                + " ms: "
                + r.output().strip().replace('\n', ' '));
      }
    }

    // ------------------------------------------------------------ admin

    /** {@code POST /targets/NAME/open|close} with the token; then the switch must say so. */
    private void admin(String target, boolean open) throws IOException, InterruptedException {
      String path = "/targets/" + target + (open ? "/open" : "/close");
      f.adminRequests++;
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                  .timeout(Duration.ofSeconds(5))
                  .header("Authorization", "Bearer " + token)
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200)
        throw new IOException(
            "POST " + path + " answered " + r.statusCode() + " " + r.body().strip());
      PromText m = watch.scrape();
      double state =
          m == null ? Double.NaN : m.value("firebreak_kill_switch_state", "target", target);
      if (state != (open ? 1 : 0)) {
        throw new IOException(
            "after POST "
                + path
                + " firebreak_kill_switch_state{target=\""
                + target
                + "\"} is "
                + state);
      }
    }

    // ------------------------------------------------------------ what is checked

    /** At {@code sinceMicros} + open-for + 5 s, every kill switch must be closed. */
    private void closeDeadline(String label, long sinceMicros) throws InterruptedException {
      long deadline = sinceMicros + windowMicros;
      long wait = deadline - Clock.nowMicros();
      if (wait > 0) Thread.sleep(wait / 1000, (int) (wait % 1000) * 1000);
      PromText m = watch.scrape();
      double limit = windowMicros / 1e6;
      if (m == null) {
        f.closeDeadlines.add(
            new SoakFindings.CloseDeadline(
                label, cycle, limit, Map.of(), Map.of(), "/metrics did not answer"));
        return;
      }
      noteErrors(m);
      Map<String, Double> states = m.byLabel("firebreak_kill_switch_state", "target");
      Map<String, Double> closedAfter = new LinkedHashMap<>();
      for (String t : states.keySet()) {
        double after = 0;
        for (AgentWatch.Transition tr : watch.transitions(t)) {
          if (tr.atMicros() >= sinceMicros && tr.state() == 0)
            after = (tr.atMicros() - sinceMicros) / 1e6;
        }
        closedAfter.put(t, after);
      }
      f.closeDeadlines.add(
          new SoakFindings.CloseDeadline(label, cycle, limit, states, closedAfter, null));
    }

    /**
     * Stops the load, waits until the service has nothing queued or in flight, and reads the
     * in-flight gauges (and, if asked, the heap after a full GC). Resumes the load unless last.
     */
    private SoakFindings.Pause pause(String label, boolean heap, boolean last)
        throws InterruptedException {
      load.pause();
      f.stepStarted(
          Clock.nowMicros(), (cycle > 0 ? "cycle " + cycle + ", " : "") + "pause " + label);
      long at = Clock.nowMicros();
      String notIdle = awaitIdle();
      if (last) {
        long polled = load.pollCycles();
        long until = System.nanoTime() + 5_000_000_000L;
        while (load.pollCycles() < polled + 2 && System.nanoTime() < until) Thread.sleep(50);
      }
      PromText m = watch.scrape();
      if (m != null) noteErrors(m);
      long heapBytes = heap ? heapAfterGc() : -1;
      SoakFindings.Pause p =
          new SoakFindings.Pause(
              label,
              cycle,
              at,
              notIdle,
              m == null ? null : m.byLabel("firebreak_inflight_calls", "target"),
              heapBytes);
      f.pauses.add(p);
      if (!last) load.resume();
      return p;
    }

    /**
     * Null once the load is quiet and the service idle; else what was still going on after {@link
     * #IDLE_TIMEOUT}.
     */
    private String awaitIdle() throws InterruptedException {
      long until = System.nanoTime() + IDLE_TIMEOUT.toNanos();
      Map<String, Object> st = Map.of();
      while (System.nanoTime() < until) {
        try {
          st = service.json("/stats");
          if (load.quiet() && num(st, "queue_depth") == 0 && num(st, "in_flight") == 0) return null;
        } catch (IOException e) {
          st = Map.of("error", e.getMessage());
        }
        Thread.sleep(50);
      }
      return "the service was not idle "
          + IDLE_TIMEOUT.toSeconds()
          + " s into the pause (queue "
          + st.get("queue_depth")
          + ", in flight "
          + st.get("in_flight")
          + ", backing off "
          + st.get("workers_backing_off")
          + (load.quiet() ? "" : ", load not quiet")
          + ")";
    }

    private static long num(Map<String, Object> m, String key) {
      Object v = m.get(key);
      return v instanceof Number n ? n.longValue() : -1;
    }

    /**
     * The heap in use after a full GC in the service's JVM (the lower of two, to be past what the
     * first one freed late).
     */
    private long heapAfterGc() throws InterruptedException {
      long best = Long.MAX_VALUE;
      for (int i = 0; i < 2; i++) {
        try {
          Map<String, Object> gc = Json.parseObject(service.post("/debug/gc", "").body());
          long v = num(gc, "heap_used_after_gc_bytes");
          if (v <= 0) v = num(gc, "heap_used_bytes");
          if (v > 0) best = Math.min(best, v);
        } catch (IOException | RuntimeException e) {
          f.scheduleProblems.add(
              f.clock(Clock.nowMicros()) + " POST /debug/gc failed: " + e.getMessage());
        }
      }
      return best == Long.MAX_VALUE ? -1 : best;
    }

    private void noteErrors(PromText m) {
      for (Map.Entry<String, Double> e :
          m.byLabel("firebreak_agent_errors_total", "kind").entrySet()) {
        if (e.getValue() > f.errorsAtStart.getOrDefault(e.getKey(), 0.0)
            && !f.errorFirstRose.containsKey(e.getKey())) {
          f.errorFirstRose.put(e.getKey(), f.when(Clock.nowMicros()));
        }
      }
    }

    /** Every dead letter the service has, paged through by sequence number. */
    private void readDeadLetters() throws IOException, InterruptedException {
      Map<String, String> all = new LinkedHashMap<>();
      long after = 0;
      long count = 0;
      while (true) {
        Map<String, Object> page = service.json("/dead-letters?after=" + after + "&limit=5000");
        count = num(page, "count");
        List<?> entries = (List<?>) page.get("entries");
        if (entries == null || entries.isEmpty()) break;
        for (Object o : entries) {
          Map<?, ?> e = (Map<?, ?>) o;
          all.put(String.valueOf(e.get("id")), String.valueOf(e.get("error")));
        }
        after = num(page, "last_seq");
      }
      f.deadLetters = all;
      f.deadLettersComplete = all.size() >= count;
    }

    private String figures(PromText m) {
      List<String> alerts = new ArrayList<>();
      for (PromText.Sample s : m.all("firebreak_alerts_total")) {
        if (s.value() > 0)
          alerts.add(s.label("sink") + " " + s.label("result") + " " + (long) s.value());
      }
      return String.format(
          "agent: rules reloads success %.0f, failure %.0f; alerts %s",
          m.value("firebreak_rules_reloads_total", "result", "success"),
          m.value("firebreak_rules_reloads_total", "result", "failure"),
          alerts.isEmpty() ? "none" : String.join(", ", alerts));
    }
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
  }

  // ---------------------------------------------------------------- output

  private String summary(SoakFindings f, List<Check> checks, double seconds, Path kept) {
    StringBuilder b = new StringBuilder("\n");
    b.append(
        String.format(
            "Firebreak chaos soak: %d:%02d in all, %.0f msg/s, %s %s; agent %s; a %d s warm-up, then %d cycles "
                + "of steps of %d s, open-for %d s%n",
            (long) seconds / 60,
            (long) seconds % 60,
            options.rate(),
            System.getProperty("java.vm.name"),
            System.getProperty("java.version"),
            options.agentJar(),
            options.warmup().toSeconds(),
            f.cycles,
            options.step().toSeconds(),
            options.openFor().toSeconds()));
    if (f.load != null) {
      b.append(
          String.format(
              "%n  %-82s %7s %9s %9s%n",
              "load, by step of the schedule (all cycles)", "sent", "delivered", "p99 ms"));
      for (SoakFindings.StepLoad s : f.loadBySteps()) {
        b.append(
            String.format(
                "  %-82s %7d %8.2f%% %9.1f%n", s.step(), s.sent(), s.deliveredPct(), s.p99Ms()));
      }
    }
    b.append('\n');
    int failed = 0;
    for (Check c : checks) {
      if (!c.passed()) failed++;
      b.append(c.passed() ? "PASS  " : "FAIL  ").append(c.name()).append('\n');
      for (String d : c.details())
        b.append("        ").append(d.replace("\n", "\n        ")).append('\n');
    }
    b.append(
        failed == 0
            ? String.format("soak: PASS (%d checks)%n", checks.size())
            : String.format("soak: FAIL (%d of %d checks failed)%n", failed, checks.size()));
    if (kept != null)
      b.append("files (service log, agent rules, alert log, Alertmanager log) kept in ")
          .append(kept)
          .append('\n');
    return b.toString();
  }
}
