package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC section 4, JFR events: a JVM started with a flight recording and the agent holds the agent's
 * firebreak.RuleTriggered and firebreak.KillSwitch events, read back with that JDK's own {@code
 * jfr} tool.
 */
class FlightRecorderIT {
  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aTripAndTheSwitchClosingAgainAreInTheRecording(String java, @TempDir Path dir)
      throws Exception {
    int port = ChildJvm.freePort();
    Path recording = dir.resolve("app.jfr");
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "kill-switch: {open-for: 500ms, half-open-calls: 3}\n");
    Map<String, String> target = labels("target", "emoji");
    try (ChildJvm app =
        ChildJvm.start(
            java,
            List.of("-XX:StartFlightRecording:filename=" + recording),
            "rules=" + rules,
            Map.of(),
            "loop")) {
      app.awaitLine("READY");
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> app.sample(port, "firebreak_kill_switch_state", target) == 1);
      app.send("good");
      app.awaitLine("OK good");
      // the evaluator has seen the switch closed once it sends the trip's "resolved" event
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(
              () -> Files.exists(alerts) && Files.readString(alerts).contains("\"resolved\":true"));
    } // quits: the recording is written at exit

    String printed = jfrPrint(java, recording);
    assertThat(printed)
        .contains("firebreak.RuleTriggered")
        .contains("rule = \"emoji-recursion\"")
        .contains("target = \"emoji\"")
        .contains("method = \"expand(String,int)\"")
        .contains("action = \"trip\"")
        .contains("threshold = 16");
    assertThat(printed)
        .contains("firebreak.KillSwitch")
        .containsPattern("from = \"closed\"\\s+to = \"open\"\\s+rule = \"emoji-recursion\"")
        .containsPattern("to = \"closed\"");
  }

  /**
   * Without a recording the agent starts nothing of JFR: the first event class would cost JFR's
   * initialization, 0.1–0.3 s.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void withoutARecordingNoJfrClassIsLoaded(String java, @TempDir Path dir) throws Exception {
    int port = ChildJvm.freePort();
    Path classes = dir.resolve("classes.log");
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "");
    try (ChildJvm app =
        ChildJvm.start(
            java,
            List.of("-Xlog:class+load=info:file=" + classes),
            "rules=" + rules,
            Map.of(),
            "loop")) {
      app.awaitLine("READY");
      await()
          .atMost(ChildJvm.TIMEOUT)
          .until(
              () -> Files.exists(alerts) && Files.readString(alerts).contains("emoji-recursion"));
      await() // a few evaluator rounds after the trip
          .atMost(ChildJvm.TIMEOUT)
          .until(() -> Files.readString(classes).contains("dev.firebreak.runtime.SwitchWatcher"));
    }
    String loaded = Files.readString(classes);
    assertThat(loaded).contains("dev.firebreak.jfr.FlightEvents");
    // asking JFR whether it is in use is cheap; an event class is what would start it up
    assertThat(loaded)
        .doesNotContain("dev.firebreak.jfr.Events$RuleTriggered")
        .doesNotContain("jdk.jfr.Event ")
        .doesNotContain("jdk.jfr.internal.MetadataRepository");
  }

  /** The renderer tripping at depth 16, alerts to {@code alerts}; {@code extra} before targets. */
  private static Path rules(int port, Path alerts, String extra) throws IOException {
    return ChildJvm.writeRules(
        ChildJvm.rulesHeader(port, alerts.toString(), "")
            + extra
            + "targets:\n"
            + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
            + "     rules: [{name: emoji-recursion, depth: 16, action: trip}]}\n");
  }

  static String jfrPrint(String java, Path recording) throws IOException, InterruptedException {
    Path jfr = Path.of(java).resolveSibling("jfr");
    Process p =
        new ProcessBuilder(
                jfr.toString(),
                "print",
                "--events",
                "firebreak.RuleTriggered,firebreak.KillSwitch,firebreak.AutoFence",
                recording.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
