package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 15: threads by the hundred thousand, or coming and going, on the built jar. Every call is
 * counted, nothing stays in flight, and the agent's heap after GC stays small once the threads are
 * gone (their state is released with their counts folded in).
 */
class ScaleIT {
  private static final long MB = 1_000_000L;

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  private static Path rules(int port, String extra) throws Exception {
    return ChildJvm.writeRules(
        ChildJvm.rulesHeader(port, "'off'", "")
            + "targets:\n"
            + "  - {name: crowd, class: testapp.Crowd, method: call, fallback: return-default,"
            + extra
            + "\n"
            + "     rules: [{name: crowd-deep, depth: 50, action: limit}]}\n");
  }

  private static void assertExactAndSmall(ChildJvm app, int port, long calls) throws Exception {
    app.awaitLine("READY");
    assertThat(Long.parseLong(app.lineAfter("CALLS "))).isEqualTo(calls);
    long before = Long.parseLong(app.lineAfter("HEAP_BEFORE "));
    long after = Long.parseLong(app.lineAfter("HEAP_AFTER "));
    assertThat(after - before).as("heap after GC grew by").isLessThan(16 * MB);
    String m = app.metrics(port);
    assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "crowd")))
        .isEqualTo(calls);
    assertThat(ChildJvm.sample(m, "firebreak_inflight_calls", labels("target", "crowd"))).isZero();
    assertThat(ChildJvm.sample(m, "firebreak_agent_errors_total", labels("kind", "advice")))
        .isZero();
  }

  /** 300,000 virtual threads (Temurin 25), each one watched call recursing 3 deep. */
  @Test
  void hundredsOfThousandsOfVirtualThreadsAreCountedExactlyAndLeaveNoHeapBehind() throws Exception {
    String java = javas().filter(j -> j.contains("temurin-25")).findFirst().orElse(null);
    assumeTrue(java != null, "virtual threads need Temurin 25 (CI has it)");
    int port = ChildJvm.freePort();
    int threads = 300_000;
    try (ChildJvm app =
        ChildJvm.startMain(
            java,
            "testapp.Crowd",
            "rules=" + rules(port, ""),
            "virtual",
            String.valueOf(threads))) {
      // the warm-up's 2,000 threads, then the measured ones, 4 calls each
      assertExactAndSmall(app, port, (2000L + threads) * 4);
    }
  }

  /**
   * 200 virtual threads (Temurin 25) held inside their watched call at once, more than a window of
   * the engine's table has places: most borrow a state from the idle pool. Each is tracked on its
   * own while held (all 4 calls of each in flight), and when they are let go every call is counted
   * and nothing stays in flight.
   */
  @Test
  void virtualThreadsHeldInsideTheirCallsAtOnceAreEachTrackedOnTheirOwn() throws Exception {
    String java = javas().filter(j -> j.contains("temurin-25")).findFirst().orElse(null);
    assumeTrue(java != null, "virtual threads need Temurin 25 (CI has it)");
    int port = ChildJvm.freePort();
    int threads = 200;
    try (ChildJvm app =
        ChildJvm.startMain(
            java, "testapp.Crowd", "rules=" + rules(port, ""), "held", String.valueOf(threads))) {
      app.awaitLine("HELD");
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_inflight_calls", labels("target", "crowd")))
          .isEqualTo(threads * 4);
      // the warm-up's threads (as many, not held), then the held ones, 4 calls each
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", labels("target", "crowd")))
          .isEqualTo(threads * 2 * 4);
      app.send("release");
      assertExactAndSmall(app, port, threads * 2 * 4L);
    }
  }

  /** 20,000 short-lived platform threads, 10 watched calls each, timed (striped recorders). */
  @ParameterizedTest
  @MethodSource("javas")
  void churnedPlatformThreadsAreCountedExactlyAndReleased(String java) throws Exception {
    int port = ChildJvm.freePort();
    int threads = 20_000;
    try (ChildJvm app =
        ChildJvm.startMain(
            java,
            "testapp.Crowd",
            "rules=" + rules(port, " histogram: true,"),
            "churn",
            String.valueOf(threads))) {
      long calls = (2000L + threads) * 10;
      assertExactAndSmall(app, port, calls);
      String m = app.metrics(port);
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_call_duration_seconds_count", labels("target", "crowd")))
          .isEqualTo(calls);
    }
  }

  /**
   * A target over every method of a class, with {@code metrics.methods-per-target: 1}: one method
   * keeps its series, the others are summed into {@code method="(other)"} (exactly: nothing is
   * lost), and one {@code firebreak:} line says so.
   */
  @Test
  void aBroadTargetKeepsItsMethodsPerTargetAndSumsTheRestIntoOneSeries() throws Exception {
    String java = javas().findFirst().orElseThrow();
    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            "version: 1\n"
                + "metrics: {host: 127.0.0.1, port: "
                + port
                + ", methods-per-target: 1}\n"
                + "alerts: {log: 'off'}\n"
                + "reload: {watch: false}\n"
                + "targets:\n"
                + "  - {name: crowd, class: testapp.Crowd, method: '*', fallback: return-default,\n"
                + "     histogram: true, rules: [{name: crowd-deep, depth: 50, action: limit}]}\n");
    try (ChildJvm app =
        ChildJvm.startMain(java, "testapp.Crowd", "rules=" + rules, "churn", "100")) {
      app.awaitLine("READY");
      long calls = Long.parseLong(app.lineAfter("CALLS "));
      String m = app.metrics(port);
      java.util.List<String> series =
          m.lines()
              .filter(l -> l.startsWith("firebreak_calls_total{") && l.contains("\"crowd\""))
              .toList();
      assertThat(series).hasSize(2).anyMatch(l -> l.contains("method=\"(other)\""));
      double total =
          series.stream()
              .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
              .sum();
      // call() as counted by the app, plus run and heapAfterGc (twice each), plus main's own call:
      // the default start watches a named class from its first call
      assertThat(total).isEqualTo(calls + 5);
      assertThat(
              m.lines().filter(l -> l.startsWith("firebreak_call_duration_seconds_count{")).count())
          .isEqualTo(2);
      assertThat(m.length()).isLessThan(256 * 1024);
      app.metrics(port);
      assertThat(app.stderr().lines().filter(l -> l.contains("metrics.methods-per-target")))
          .hasSize(1)
          // main, call, run, heapAfterGc: leaf(int) has no invoke and no loop, so '*' leaves it out
          .allMatch(l -> l.startsWith("firebreak: target crowd has 4 methods"));
      assertThat(m).doesNotContain("leaf(int)");
    }
  }
}
