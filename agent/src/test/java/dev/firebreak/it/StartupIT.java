package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two ways the agent starts. {@code startup=background} (the default): premain only starts the
 * agent's thread, the application runs meanwhile, and what it loaded before the instrumentation was
 * ready is retransformed. {@code startup=wait}: a class a rule may match waits for the
 * instrumentation while it loads, so even the very first call is watched. {@code
 * -Dtestapp.nowait=true} makes the test program skip its wait for the agent.
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
  void backgroundStartRetransformsWhatLoadedBeforeItWasReady(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = rules(port);
    try (ChildJvm app = startNoWait(java, "rules=" + rules, "early")) {
      app.awaitLine("READY");
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
  void byteBuddyWaitsUntilAClassNeedsItOrTheApplicationIsIdle(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = rules(port);
    try (ChildJvm app = ChildJvm.start(java, "rules=" + rules, "idle")) {
      app.awaitLine("READY");
      // running, with no class a rule matches loaded: Byte Buddy is not loaded for nothing ...
      assertThat(app.lineAfter("INSTRUMENTED ")).isEqualTo("null");
      // ... until the application stops loading classes (then it is, off the application's threads)
      await()
          .atMost(ChildJvm.TIMEOUT)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                app.send("timing");
                return app.stdout()
                    .lines()
                    .anyMatch(l -> l.startsWith("INSTRUMENTED ") && !l.equals("INSTRUMENTED null"));
              });
      // and the renderer, first loaded now, is watched from its first call
      app.send("once");
      await().atMost(ChildJvm.TIMEOUT).until(() -> app.stdout().contains("RESULT "));
      assertThat(app.lineAfter("RESULT ")).isEqualTo("hi :a:");
      assertThat(app.stdout()).doesNotContain("OVERFLOW");
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_calls_total", labels("target", "emoji")))
          .isEqualTo(33);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void waitStartWatchesTheFirstCall(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path rules = rules(port);
    try (ChildJvm app = startNoWait(java, "rules=" + rules + ",startup=wait", "recurse", "1")) {
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
}
