package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 3: a child JVM with {@code -javaagent:} on the built jar, on JDK 17 and Temurin 25. Each
 * test asserts on the child's output, its /metrics and its alert log.
 */
class AgentIT {

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  private static String header(int port, Path alertLog) {
    return ChildJvm.rulesHeader(port, alertLog == null ? "stderr" : alertLog.toString(), "");
  }

  @ParameterizedTest
  @MethodSource("javas")
  void runawayRecursionTripsAndReturnsTheArgumentInsteadOfOverflowing(String java)
      throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = Files.createTempFile("alerts", ".jsonl");
    Path rules =
        ChildJvm.writeRules(
            header(port, alerts)
                + "targets:\n"
                + "  - name: emoji\n"
                + "    class: testapp.Emoji\n"
                + "    method: expand\n"
                + "    fallback: return-arg:0\n"
                + "    rules:\n"
                + "      - {name: emoji-recursion, depth: 32, action: trip}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "recurse", "3")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).doesNotContain("OVERFLOW");
      assertThat(app.stdout().lines().filter(l -> l.equals("RESULT hi :a:")).count()).isEqualTo(3);
      long calls = Long.parseLong(app.lineAfter("CALLS "));
      // 33 calls in the first message (the 33rd short-circuited), one each for the next two
      assertThat(calls).isEqualTo(35);
      String m = app.metrics(port);
      Map<String, String> target = labels("target", "emoji");
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_calls_total",
                  labels("target", "emoji", "method", "expand(String,int)")))
          .isEqualTo(calls);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", target)).isEqualTo(1);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_rule_triggers_total",
                  labels(
                      "rule",
                      "emoji-recursion",
                      "target",
                      "emoji",
                      "action",
                      "trip",
                      "mode",
                      "enforce")))
          .isEqualTo(1);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "limit")))
          .isEqualTo(1);
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_short_circuits_total", labels("target", "emoji", "reason", "open")))
          .isEqualTo(2);
      assertThat(ChildJvm.sample(m, "firebreak_call_depth_max", target)).isEqualTo(32);
      assertThat(ChildJvm.sample(m, "firebreak_inflight_calls", target)).isZero();
      // a depth-only guard reads no clock: no duration histogram unless it asks (histogram: true)
      assertThat(m).doesNotContain("firebreak_call_duration_seconds_count{");
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_rules_info", labels("version", "1", "source", rules.toString())))
          .isEqualTo(1);
      // the depth max gauge is "since the last scrape"
      assertThat(app.sample(port, "firebreak_call_depth_max", target)).isZero();

      await().atMost(ChildJvm.TIMEOUT).until(() -> !Files.readString(alerts).isBlank());
      List<String> events = Files.readAllLines(alerts);
      assertThat(events).hasSize(1);
      String event = events.get(0);
      assertThat(event)
          .contains(
              "\"rule\":\"emoji-recursion\"",
              "\"target\":\"emoji\"",
              "\"method\":\"expand(String,int)\"")
          .contains(
              "\"action\":\"trip\"",
              "\"mode\":\"enforce\"",
              "\"value\":33",
              "\"threshold\":32",
              "\"thread\":\"main\"")
          .contains("\"argument\":{\"index\":0,\"type\":\"String\",\"length\":6,\"sha256\":\"")
          .containsPattern("testapp\\.Emoji\\.expand\\(Emoji\\.java:\\d+\\) x32")
          .doesNotContain("dev.firebreak");
      assertThat(
              ChildJvm.sample(
                  app.metrics(port),
                  "firebreak_alerts_total",
                  labels("sink", "log", "result", "sent")))
          .isEqualTo(1);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void mutualRecursionAcrossTwoClassesSharesTheGroupDepth(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: ping, class: testapp.Ping, method: ping, group: pingpong, fallback: return-default,\n"
                + "     rules: [{name: pingpong-depth, depth: 20, action: limit}]}\n"
                + "  - {name: pong, class: testapp.Pong, method: pong, group: pingpong, fallback: return-default, rules: []}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "mutual")) {
      app.awaitLine("READY");
      // ping at group depth 21 returns 0; each of the 20 frames below adds 1
      assertThat(app.lineAfter("RESULT ")).isEqualTo("20");
      String m = app.metrics(port);
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_short_circuits_total", labels("target", "ping", "reason", "limit")))
          .isEqualTo(1);
      assertThat(
              ChildJvm.sample(m, "firebreak_calls_total", labels("target", "ping"))
                  + ChildJvm.sample(m, "firebreak_calls_total", labels("target", "pong")))
          .isEqualTo(Long.parseLong(app.lineAfter("CALLS ")));
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void classesOfChildAndIsolatedClassLoadersAreInstrumented(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: plugin, class: 'testapp.plugin.*', method: recurse, fallback: return-arg:0,\n"
                + "     rules: [{name: plugin-depth, depth: 10, action: limit}]}\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     rules: [{name: emoji-depth, depth: 10, action: limit}]}\n");
    try (ChildJvm app =
        ChildJvm.start(java, "rules=" + rules, "loaders", ChildJvm.pluginDir().toString())) {
      app.awaitLine("READY");
      assertThat(app.stdout())
          .contains("LOADER URLClassLoader(parent=app) RESULT plugin")
          .contains("LOADER URLClassLoader(parent=null) RESULT plugin");
      assertThat(
              app.sample(
                  port,
                  "firebreak_short_circuits_total",
                  labels("target", "plugin", "reason", "limit")))
          .isEqualTo(2);
    }
    // and the application class loader
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "recurse", "2")) {
      app.awaitLine("READY");
      assertThat(app.stdout().lines().filter(l -> l.equals("RESULT hi :a:")).count()).isEqualTo(2);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void limitShortCircuitsOnlyTheOffendingCallAndObserveNeverDoes(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path limit =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     rules: [{name: emoji-limit, depth: 32, action: limit}]}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + limit, "recurse", "3")) {
      app.awaitLine("READY");
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", labels("target", "emoji")))
          .isZero();
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "limit")))
          .isEqualTo(3);
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "emoji")))
          .isEqualTo(99);
    }
    Path observe =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     rules: [{name: emoji-shadow, depth: 32, action: trip, mode: observe}]}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + observe, "recurse", "1")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).contains("OVERFLOW");
      String m = app.metrics(port);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_rule_triggers_total",
                  labels("rule", "emoji-shadow", "action", "trip", "mode", "observe")))
          .isEqualTo(1);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", labels("target", "emoji")))
          .isZero();
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "limit")))
          .isZero();
      assertThat(app.stderr())
          .contains("\"rule\":\"emoji-shadow\"")
          .contains("\"mode\":\"observe\"");
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void killSwitchOpensHalfOpensAndClosesAgain(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "kill-switch: {open-for: 500ms, half-open-calls: 3}\n"
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     rules: [{name: emoji-recursion, depth: 16, action: trip}]}\n");
    Map<String, String> target = labels("target", "emoji");
    Map<String, String> trips = labels("rule", "emoji-recursion");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "loop")) {
      app.awaitLine("READY");
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> app.sample(port, "firebreak_kill_switch_state", target) == 1);
      // still bad: every half-open trial trips it again
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> app.sample(port, "firebreak_rule_triggers_total", trips) >= 3);
      assertThat(
              app.sample(
                  port,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "open")))
          .isPositive();
      app.send("good");
      app.awaitLine("OK good");
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> app.sample(port, "firebreak_kill_switch_state", target) == 0);
      double triggers = app.sample(port, "firebreak_rule_triggers_total", trips);
      double calls = app.sample(port, "firebreak_calls_total", target);
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> app.sample(port, "firebreak_calls_total", target) > calls + 100);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isZero();
      assertThat(app.sample(port, "firebreak_rule_triggers_total", trips)).isEqualTo(triggers);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void everyFallbackKind(String java) throws Exception {
    int port = ChildJvm.freePort();
    String t = "    rules: [{name: %s-depth, depth: 5, action: limit}]\n";
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: text, class: testapp.Fallbacks, method: text, fallback: 'return-arg:0',\n"
                + t.formatted("text").replace("    ", "     ").replace("]\n", "]}\n")
                + "  - {name: boxed, class: testapp.Fallbacks, method: boxed, fallback: 'return-value:42',\n"
                + t.formatted("boxed").replace("    ", "     ").replace("]\n", "]}\n")
                + "  - {name: number, class: testapp.Fallbacks, method: number, fallback: return-default,\n"
                + t.formatted("number").replace("    ", "     ").replace("]\n", "]}\n")
                + "  - {name: flag, class: testapp.Fallbacks, method: flag, fallback: 'return-value:false',\n"
                + t.formatted("flag").replace("    ", "     ").replace("]\n", "]}\n")
                + "  - {name: object, class: testapp.Fallbacks, method: object, fallback: return-null,\n"
                + t.formatted("object").replace("    ", "     ").replace("]\n", "]}\n")
                + "  - {name: thrower, class: testapp.Fallbacks, method: thrower,\n"
                + t.formatted("thrower").replace("    ", "     ").replace("]\n", "]}\n"));
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "fallbacks")) {
      app.awaitLine("READY");
      assertThat(app.stdout())
          .contains("text=same", "boxed=42", "number=0", "flag=false", "object=null")
          .contains(
              "thrower threw dev.firebreak.bootstrap.ShortCircuitException: firebreak: rule thrower-depth short-circuited target thrower at depth 6");
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void eightThreadsRecursingAtOnceEachTripOnTheirOwnDepthAndEveryCallIsCounted(String java)
      throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     histogram: true, rules: [{name: emoji-limit, depth: 50, action: limit}]}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "threads", "8")) {
      app.awaitLine("READY");
      for (int i = 0; i < 8; i++) {
        assertThat(app.stdout()).contains("THREAD " + i + " t" + i + "\n");
      }
      long calls = Long.parseLong(app.lineAfter("CALLS "));
      assertThat(calls).isEqualTo(8 * 20 * 51);
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "emoji")))
          .isEqualTo(calls);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "emoji", "reason", "limit")))
          .isEqualTo(8 * 20);
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_call_duration_seconds_count", labels("target", "emoji")))
          .isEqualTo(8 * 20 * 50);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void invalidOrMissingRulesAndABusyPortLeaveTheApplicationRunning(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path bad =
        ChildJvm.writeRules(
            "version: 1\ntargets:\n  - name: Bad Name\n    class: testapp.Emoji\n    rules: []\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + bad + ",port=" + port, "recurse", "1")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).contains("OVERFLOW");
      assertThat(app.stderr())
          .containsPattern("firebreak: rules not loaded, nothing is watched: .*:3:\\d+: ");
      assertThat(app.stderr().lines().filter(l -> l.startsWith("firebreak:")).count()).isEqualTo(1);
      assertThat(app.sample(port, "firebreak_agent_errors_total", labels("kind", "rules")))
          .isEqualTo(1);
    }
    try (ChildJvm app =
        ChildJvm.start(java, "rules=/nonexistent/rules.yaml,port=" + port, "plain")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).contains("RESULT plain");
      assertThat(app.stderr())
          .contains("firebreak: rules not loaded")
          .contains("/nonexistent/rules.yaml");
    }
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path rules =
          ChildJvm.writeRules(
              header(busy.getLocalPort(), null)
                  + "targets:\n"
                  + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                  + "     rules: [{name: emoji-recursion, depth: 32, action: trip}]}\n");
      try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "recurse", "1")) {
        app.awaitLine("READY");
        // no metrics, but the rules are in force
        assertThat(app.stdout()).contains("RESULT hi :a:");
        assertThat(app.stderr())
            .contains("firebreak: cannot serve /metrics on 127.0.0.1:" + busy.getLocalPort());
      }
    }
    try (ChildJvm app =
        ChildJvm.start(java, "", Map.of("FIREBREAK_RULES", bad.toString()), "plain")) {
      app.awaitLine("READY");
      assertThat(app.stderr()).contains("firebreak: rules not loaded").contains(bad.toString());
    }
  }

  /**
   * The evaluator runs every 50 ms here (a 200 ms stuck rule): in a JVM that loads no classes and
   * calls nothing, a round must not allocate (it once republished its start-up timings with
   * String.format every round: about 30 KB a round, 600 KB a second).
   */
  @ParameterizedTest
  @MethodSource("javas")
  void theEvaluatorOfAQuietApplicationAllocatesAlmostNothing(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            header(port, null)
                + "targets:\n"
                + "  - name: emoji\n"
                + "    class: testapp.Emoji\n"
                + "    method: expand\n"
                + "    rules:\n"
                + "      - {name: emoji-stuck, duration: 200ms, action: alert}\n");
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "recurse", "1")) {
      app.awaitLine("READY");
      app.send("evaluator-alloc");
      app.awaitLine("EVALUATOR-ALLOC ");
      long[] perSecond =
          Arrays.stream(app.lineAfter("EVALUATOR-ALLOC ").split(" "))
              .mapToLong(Long::parseLong)
              .toArray();
      assertThat(perSecond).hasSize(4);
      System.out.println(
          "[agent-it] evaluator bytes allocated per second, "
              + java
              + ": "
              + Arrays.toString(perSecond));
      // the first seconds may hold the agent's one-off work (its second look at the loaded
      // classes a second after start, the classes this command loads); the last two are quiet:
      // 20 rounds each, under 1 KB a round
      assertThat(perSecond[2])
          .as("bytes allocated by the evaluator in the third second")
          .isLessThan(20 * 1024);
      assertThat(perSecond[3])
          .as("bytes allocated by the evaluator in the fourth second")
          .isLessThan(20 * 1024);
    }
  }
}
