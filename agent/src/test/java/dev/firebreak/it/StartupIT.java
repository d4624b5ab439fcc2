package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two ways the agent starts. {@code startup=watched} (the default): a method a rule names never
 * runs unwatched once premain has returned; a class a rule may match waits while it loads until its
 * instrumentation is ready. {@code startup=lazy}: nothing waits, premain says early calls are not
 * watched, and what loaded before the agent was ready is retransformed. {@code
 * -Dtestapp.nowait=true} makes testapp.App skip its wait for the agent.
 */
class StartupIT {
  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  private static Path rules(int port) throws Exception {
    return ChildJvm.writeRules(
        ChildJvm.rulesHeader(port, "off", "")
            + "targets:\n"
            + "  - name: emoji\n"
            + "    class: testapp.Emoji\n"
            + "    method: expand\n"
            + "    fallback: return-arg:0\n"
            + "    rules:\n"
            + "      - {name: emoji-recursion, depth: 32, action: trip}\n");
  }

  /**
   * The test program without its wait for the agent: what it does first runs while the agent
   * starts.
   */
  private static ChildJvm startNoWait(String java, String agentArgs, String... appArgs)
      throws Exception {
    return ChildJvm.start(java, List.of("-Dtestapp.nowait=true"), agentArgs, Map.of(), appArgs);
  }

  @ParameterizedTest
  @MethodSource("javas")
  void lazyStartSaysSoAndRetransformsWhatLoadedBeforeItWasReady(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = rules(port);
    try (ChildJvm app = startNoWait(java, "rules=" + rules + ",startup=lazy", "early")) {
      app.awaitLine("READY");
      assertThat(app.stderr())
          .contains("firebreak: startup=lazy: calls made before the agent reports running");
      // the renderer was loaded and called while the agent was still starting ...
      assertThat(app.lineAfter("STATUS ")).isEqualTo("starting");
      assertThat(app.lineAfter("EARLY ")).isEqualTo("hi A");
      long early = Long.parseLong(app.lineAfter("EARLY-CALLS "));
      // ... and is watched once it is ready: the runaway message is cut at depth 32
      assertThat(app.stdout()).doesNotContain("OVERFLOW");
      assertThat(app.lineAfter("RESULT ")).isEqualTo("hi :a:");
      long calls = Long.parseLong(app.lineAfter("CALLS "));
      assertThat(calls - early).isEqualTo(33);
      String m = app.metrics(port);
      // the calls made before the agent was ready were not seen; every call after was
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "emoji")))
          .isEqualTo(calls - early);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "limit")))
          .isEqualTo(1);
      // the start's cost is published for jcmd VM.system_properties
      String[] timing = app.lineAfter("TIMING ").split(" ");
      assertThat(Double.parseDouble(timing[0])).isPositive();
      assertThat(Double.parseDouble(timing[1])).isGreaterThan(Double.parseDouble(timing[0]));
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void theDefaultStartWatchesTheFirstCall(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = rules(port);
    try (ChildJvm app = startNoWait(java, "rules=" + rules, "recurse", "1")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).doesNotContain("OVERFLOW");
      assertThat(app.lineAfter("RESULT ")).isEqualTo("hi :a:");
      long calls = Long.parseLong(app.lineAfter("CALLS "));
      assertThat(calls).isEqualTo(33);
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_calls_total", labels("target", "emoji")))
          .isEqualTo(calls);
    }
  }

  private static Path startupRules(int port, String targets) throws Exception {
    return ChildJvm.writeRules(ChildJvm.rulesHeader(port, "off", "") + "targets:\n" + targets);
  }

  /** StartupApp's {@code first-line} program under the agent, with these JVM flags. */
  private static ChildJvm firstLine(String java, Path rules, String... jvmArgs) throws Exception {
    return ChildJvm.startMain(
        java, List.of(jvmArgs), "testapp.StartupApp", "rules=" + rules, List.of(), "first-line");
  }

  /** One of the agent's timing keys from StartupApp's TIMING line. */
  private static double timing(ChildJvm app, String key) {
    for (String kv : app.lineAfter("TIMING ").split(" ")) {
      if (kv.startsWith(key + "=")) {
        return Double.parseDouble(kv.substring(key.length() + 1));
      }
    }
    throw new AssertionError("no " + key + " in the TIMING line");
  }

  private static String runaway(String name, String nested) {
    return "  - name: "
        + name
        + "\n"
        + "    class: testapp.StartupApp$"
        + nested
        + "\n"
        + "    method: down\n"
        + "    fallback: return-default\n"
        + "    rules:\n"
        + "      - {name: "
        + name
        + "-depth, depth: 32, action: limit}\n";
  }

  /**
   * A runaway recursion in main's first line, with the default start: cut at depth 32 (without the
   * agent, or with the agent not yet ready, it ends in StackOverflowError).
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aRecursionInMainsFirstLineIsCaught(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("first", "First"));
    try (ChildJvm app = firstLine(java, rules)) {
      assertCutAt32(app, port, "first");
    }
  }

  /** The runaway recursion of target {@code target} was cut at depth 32, once. */
  private static void assertCutAt32(ChildJvm app, int port, String target) throws Exception {
    app.awaitLine("READY");
    assertThat(app.lineAfter("RESULT ")).isEqualTo("32");
    assertThat(app.stderr()).doesNotContain("StackOverflowError");
    assertThat(
            ChildJvm.sample(
                app.metrics(port),
                "firebreak_short_circuits_total",
                labels("target", target, "reason", "limit")))
        .isEqualTo(1);
  }

  /**
   * A class the rules name that loaded before the agent's premain (here: by another agent ahead of
   * it on the command line) never passed the class gate. The start's catch-up instruments it: its
   * recursion, once the agent runs, is cut at depth 32.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aClassLoadedBeforePremainIsCaughtUp(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("early", "Early"));
    try (ChildJvm app =
        ChildJvm.startMain(
            java,
            List.of("-javaagent:" + earlyAgentJar()),
            "testapp.StartupApp",
            "rules=" + rules,
            List.of(),
            "early")) {
      assertCutAt32(app, port, "early");
    }
  }

  /** A jar of testapp.EarlyAgent alone: its premain loads StartupApp$Early. */
  private static Path earlyAgentJar() throws Exception {
    Path jar = Files.createTempFile("firebreak-early-agent", ".jar");
    java.util.jar.Manifest m = new java.util.jar.Manifest();
    m.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes()
        .put(new java.util.jar.Attributes.Name("Premain-Class"), "testapp.EarlyAgent");
    try (java.util.jar.JarOutputStream out =
        new java.util.jar.JarOutputStream(Files.newOutputStream(jar), m)) {
      out.putNextEntry(new java.util.jar.JarEntry("testapp/EarlyAgent.class"));
      Files.copy(ChildJvm.testClasses().resolve("testapp/EarlyAgent.class"), out);
      out.closeEntry();
    }
    return jar;
  }

  /**
   * An application that starts for longer (here: loads the watched class, then other classes for
   * 1.5 s) gets the rules parsed and put in force beside its start, not after it: the class that
   * loaded with the pending entry is instrumented meanwhile, and its first call does not wait. That
   * call's recursion is cut before the rest of the start (the evaluator, the alert sinks,
   * /metrics): its count, its short-circuit and its alert are all there afterwards.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aLongStartHasTheRulesParsedBesideIt(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = Files.createTempFile("firebreak-alerts", ".jsonl");
    Path rules =
        ChildJvm.writeRules(
            ChildJvm.rulesHeader(port, "'" + alerts + "'", "")
                + "targets:\n"
                + runaway("first", "First"));
    try (ChildJvm app =
        ChildJvm.startMain(java, "testapp.StartupApp", "rules=" + rules, "long-start")) {
      app.awaitLine("READY");
      assertThat(app.lineAfter("RESULT ")).startsWith("32 after ");
      double parsed = timing(app, "parse.ms");
      double yielded = timing(app, "yield.ms");
      assertThat(parsed).as("parsed during the yield").isLessThan(yielded);
      assertThat(parsed)
          .as("not before the application had half a second to itself")
          .isGreaterThanOrEqualTo(500.0);
      assertThat(timing(app, "pending.waits")).as("calls that waited for the rules").isZero();
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "first")))
          .isEqualTo(33);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "first", "reason", "limit")))
          .isEqualTo(1);
      await().atMost(ChildJvm.TIMEOUT).until(() -> !Files.readString(alerts).isBlank());
      List<String> events = Files.readAllLines(alerts);
      assertThat(events).hasSize(1);
      assertThat(events.get(0)).contains("\"rule\":\"first-depth\"", "\"action\":\"limit\"");
    } finally {
      Files.deleteIfExists(alerts);
    }
  }

  /**
   * The watched class loads at once while the rules are still being read (held back here for a
   * second and a half): it gets the pending entry, main's first call waits in it, then calls the
   * method again, instrumented by then. Exactly as many calls are counted as with the class held at
   * load: none runs unwatched, none is counted twice.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aCallWhileTheRulesAreReadWaitsAndIsWatched(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("first", "First"));
    try (ChildJvm app = firstLine(java, rules, "-Dfirebreak.test.delay-rules-ms=1500")) {
      app.awaitLine("READY");
      assertThat(app.lineAfter("RESULT ")).isEqualTo("32");
      assertThat(Integer.parseInt(app.lineAfter("PENDING "))).isPositive();
      assertThat(timing(app, "pending.waits")).as("calls that waited for the rules").isEqualTo(1);
      // the start thread parsed the file before the rules were held back (1.5 s), not after
      assertThat(timing(app, "ready.ms") - timing(app, "parse.ms")).isGreaterThan(1500.0);
      assertThat(app.stderr()).doesNotContain("firebreak:");
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "first")))
          .isEqualTo(33);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "first", "reason", "limit")))
          .isEqualTo(1);
    }
  }

  /**
   * One thread is held at the class gate loading a watched class while a second thread loads
   * another: no deadlock, and both are watched from their first call.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aSecondThreadLoadsATargetWhileTheFirstWaits(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("left", "Left") + runaway("right", "Right"));
    try (ChildJvm app =
        ChildJvm.startMain(java, "testapp.StartupApp", "rules=" + rules, "two-threads")) {
      app.awaitLine("READY");
      assertThat(app.lineAfter("LEFT-STATE ")).isIn("TIMED_WAITING", "WAITING", "BLOCKED");
      assertThat(app.lineAfter("LEFT ")).isEqualTo("32");
      assertThat(app.lineAfter("RIGHT ")).isEqualTo("32");
      String m = app.metrics(port);
      for (String t : List.of("left", "right")) {
        assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", t))).isEqualTo(33);
      }
    }
  }

  /**
   * A healthy start prints no JVM warning: class-data sharing stays on (the probe is not appended
   * to the boot class path) and nothing reaches sun.misc.Unsafe.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void aHealthyStartPrintsNoWarning(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("first", "First"));
    try (ChildJvm app = firstLine(java, rules)) {
      app.awaitLine("READY");
      assertThat(app.lineAfter("RESULT ")).isEqualTo("32");
      app.metrics(port);
      assertThat(app.stderr().lines())
          .noneMatch(l -> l.toLowerCase(Locale.ROOT).contains("warning"));
    }
  }

  /**
   * The agent's start (the parse, the engine, the weaving, the evaluator's first rounds) spins no
   * class for a lambda or a record's {@code equals} of its own: each costs a generated class and
   * JIT work beside the application's start (75 generated classes and about 250 compilations on a
   * 20,000-class start before they were taken out). The auto-fence's warm-up of its stack walk is
   * the one on purpose: it runs on the warm-up thread so that an overflow's walk needs nothing new.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void theStartSpinsNoLambdaOfTheAgentsOwn(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = startupRules(port, runaway("first", "First"));
    Path log = Files.createTempFile("firebreak-class-load", ".log");
    try {
      try (ChildJvm app = firstLine(java, rules, "-Xlog:class+load=info:file=" + log)) {
        app.awaitLine("READY");
        assertThat(app.lineAfter("RESULT ")).isEqualTo("32");
      } // the child exits: the log is complete
      List<String> loaded = Files.readAllLines(log);
      assertThat(loaded).anyMatch(l -> l.contains(" dev.firebreak.runtime.Monitor "));
      assertThat(loaded)
          .filteredOn(l -> l.contains(" dev.firebreak.") && l.contains("$$Lambda"))
          .allMatch(l -> l.contains(" dev.firebreak.fence.AutoFences$$Lambda"));
      assertThat(loaded).noneMatch(l -> l.contains(" java.lang.runtime.ObjectMethods "));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** A target without rules loads, is watched for its metrics, and can be named by of:. */
  @ParameterizedTest
  @MethodSource("javas")
  void aTargetWithoutRulesIsWatchedForItsMetrics(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        startupRules(
            port,
            "  - name: counted\n"
                + "    class: testapp.StartupApp$Counted\n"
                + "    method: tick\n"
                + "  - name: first\n"
                + "    class: testapp.StartupApp$First\n"
                + "    rules:\n"
                + "      - {name: per-tick, calls-per-invocation: {limit: 9, of: counted},"
                + " action: alert}\n");
    try (ChildJvm app =
        ChildJvm.startMain(java, "testapp.StartupApp", "rules=" + rules, "counted")) {
      app.awaitLine("READY");
      assertThat(app.lineAfter("RESULT ")).isEqualTo("10");
      assertThat(app.stderr()).doesNotContain("firebreak:");
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_calls_total", labels("target", "counted")))
          .isEqualTo(5);
    }
  }

  /** attach accepts a file whose target has no rules, and the target is counted from then on. */
  @ParameterizedTest
  @MethodSource("javas")
  void attachTakesATargetWithoutRules(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        startupRules(port, "  - name: emoji\n    class: testapp.Emoji\n    method: expand\n");
    try (ChildJvm app = ChildJvm.start(java, null, "plain")) {
      app.awaitLine("READY");
      AttachIT.Cli attached =
          AttachIT.cli(java, "attach", Long.toString(app.pid()), rules.toString());
      assertThat(attached.exit()).as(attached.err()).isZero();
      assertThat(attached.out()).contains("running, rules " + rules);
      // no rule: the runaway call is not stopped, but every call of it is counted
      assertThat(app.once()).isEqualTo("overflow");
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_calls_total", labels("target", "emoji")))
          .isPositive();
    }
  }
}
