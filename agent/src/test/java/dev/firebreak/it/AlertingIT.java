package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 3 for alerting: the {@code duration} watchdog, call budgets, and webhooks that are slow,
 * failing or gone, in a child JVM running {@code testapp.AlertApp} under the built agent.
 */
class AlertingIT {

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  private static String header(int port, Path alertLog, String extraAlerts) {
    return ChildJvm.rulesHeader(port, alertLog.toString(), extraAlerts);
  }

  private static List<String> events(Path alertLog) throws IOException {
    return Files.readAllLines(alertLog, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.isBlank())
        .toList();
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aCallSpinningPastItsDurationIsReportedOnceWithItsStackAndACallInTimeIsNot(String java)
      throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = Files.createTempFile("alerts", ".jsonl");
    // repeat-interval 1ms: only the watchdog's once-per-call rule can keep it to one report
    Path rules =
        ChildJvm.writeRules(
            header(port, alerts, ", repeat-interval: 1ms")
                + "targets:\n"
                + "  - {name: spinner, class: testapp.Spinner, method: '*',\n"
                + "     rules: [{name: spin-stuck, duration: 500ms, action: alert}]}\n");
    try (ChildJvm app = ChildJvm.startMain(java, "testapp.AlertApp", "rules=" + rules, "spin")) {
      app.awaitLine("READY");
      assertThat(app.stdout()).contains("QUICK true", "SPUN true");
      await().atMost(Duration.ofSeconds(10)).until(() -> !events(alerts).isEmpty());
      // the call is over; the watchdog (every 125 ms here) must not report it again
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> events(alerts).size() == 1);
      String event = events(alerts).get(0);
      assertThat(event)
          .contains(
              "\"rule\":\"spin-stuck\"",
              "\"target\":\"spinner\"",
              "\"method\":\"spin(long)\"",
              "\"action\":\"alert\"")
          .contains("\"threshold\":500", "\"thread\":\"main\"")
          .containsPattern(
              "\"stack\":\\[\"testapp\\.Spinner\\.spin\\(Spinner\\.java:\\d+\\)\",\"testapp\\.AlertApp\\.main\\(AlertApp\\.java:\\d+\\)\"")
          .doesNotContain("quick(");
      double value = Double.parseDouble(field(event, "value"));
      // seen within a quarter of the duration (plus slack for a busy machine)
      assertThat(value).isGreaterThan(500).isLessThan(1500);
      assertThat(app.sample(port, "firebreak_rule_triggers_total", labels("rule", "spin-stuck")))
          .isEqualTo(1);
      assertThat(
              app.sample(
                  port,
                  "firebreak_calls_total",
                  labels("target", "spinner", "method", "quick(long)")))
          .isEqualTo(1);
      assertThat(
              app.sample(
                  port,
                  "firebreak_calls_total",
                  labels("target", "spinner", "method", "spin(long)")))
          .isEqualTo(1);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aMillionCallsInsideOneCallTripTheBudgetAtItsLimit(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = Files.createTempFile("alerts", ".jsonl");
    Path rules =
        ChildJvm.writeRules(
            header(port, alerts, "")
                + "targets:\n"
                + "  - {name: outer, class: testapp.BudgetOuter, method: run, rules: []}\n"
                + "  - {name: inner, class: testapp.BudgetInner, method: tick, fallback: return-default,\n"
                + "     rules: [{name: tick-budget, calls-per-invocation: {limit: 1000, of: outer}, action: trip}]}\n");
    try (ChildJvm app =
        ChildJvm.startMain(java, "testapp.AlertApp", "rules=" + rules, "budget", "1000000")) {
      app.awaitLine("READY");
      // calls 1..1000 return 1; the 1001st is short-circuited and the switch opens for the rest
      assertThat(app.lineAfter("SUM ")).isEqualTo("1000");
      String m = app.metrics(port);
      Map<String, String> inner = labels("target", "inner");
      assertThat(ChildJvm.sample(m, "firebreak_calls_total", inner)).isEqualTo(1_000_000);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_rule_triggers_total",
                  labels("rule", "tick-budget", "action", "trip")))
          .isEqualTo(1);
      assertThat(
              ChildJvm.sample(
                  m,
                  "firebreak_short_circuits_total",
                  labels("target", "inner", "reason", "limit")))
          .isEqualTo(1);
      assertThat(
              ChildJvm.sample(
                  m, "firebreak_short_circuits_total", labels("target", "inner", "reason", "open")))
          .isEqualTo(998_999);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", inner)).isEqualTo(1);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", labels("target", "outer")))
          .isZero();
      await().atMost(Duration.ofSeconds(10)).until(() -> !events(alerts).isEmpty());
      assertThat(events(alerts)).hasSize(1);
      assertThat(events(alerts).get(0))
          .contains(
              "\"rule\":\"tick-budget\"",
              "\"target\":\"inner\"",
              "\"method\":\"tick(int)\"",
              "\"action\":\"trip\"")
          .contains("\"value\":1001", "\"threshold\":1000")
          .containsPattern(
              "\"stack\":\\[\"testapp\\.BudgetInner\\.tick\\(BudgetInner\\.java:\\d+\\)\",\"testapp\\.BudgetOuter\\.run\\(BudgetOuter\\.java:\\d+\\)\"");
    }
  }

  // ------------------------------------------------------------------ webhooks that misbehave

  /** What the flood measured on the application thread, in microseconds. */
  record Latency(long p50, long p99, long max) {
    static Latency parse(String line) {
      Matcher m = Pattern.compile("p50=(\\d+) p99=(\\d+) max=(\\d+)").matcher(line);
      if (!m.find()) {
        throw new AssertionError("no latency in " + line);
      }
      return new Latency(
          Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
    }
  }

  private static final int FLOOD = 2000;

  private static String floodRules(int port, Path alerts, String webhook) {
    return header(port, alerts, ", repeat-interval: 1ms, webhook: '" + webhook + "'")
        + "targets:\n"
        + "  - {name: nest, class: testapp.Nest, method: down, fallback: return-default,\n"
        + "     rules: [{name: nest-depth, depth: 8, action: limit}]}\n";
  }

  /**
   * Runs the flood against one webhook; returns the child's latency and leaves the child to {@code
   * check}.
   */
  private static Latency flood(String webhook, String label, ChildCheck check) throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = Files.createTempFile("alerts", ".jsonl");
    Path rules = ChildJvm.writeRules(floodRules(port, alerts, webhook));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try (ChildJvm app =
        ChildJvm.startMain(
            java, "testapp.AlertApp", "rules=" + rules, "flood", Integer.toString(FLOOD))) {
      long t0 = System.nanoTime();
      app.awaitLine("READY");
      Latency l = Latency.parse(app.lineAfter("LATENCY "));
      System.out.printf(
          "[alerting-it] webhook %-24s app-thread latency of %d alerting calls: p50 %d us, p99 %d us, max %d us (run %.1f s)%n",
          label, FLOOD, l.p50(), l.p99(), l.max(), (System.nanoTime() - t0) / 1e9);
      // the log sink is never held up by the webhook: every event reaches the file, none dropped
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  app.sample(
                              port,
                              "firebreak_alerts_total",
                              labels("sink", "log", "result", "sent"))
                          == events(alerts).size()
                      && !events(alerts).isEmpty());
      assertThat(
              app.sample(
                  port, "firebreak_alerts_total", labels("sink", "log", "result", "dropped")))
          .isZero();
      check.check(app, port, events(alerts).size());
      return l;
    }
  }

  interface ChildCheck {
    void check(ChildJvm app, int port, int events) throws Exception;
  }

  @Test
  void aSlowFailingOrDeadWebhookDoesNotSlowTheApplicationAndItsLossesAreCounted() throws Exception {
    List<Latency> bad = new ArrayList<>();
    try (Hook healthy = new Hook(200, 0);
        Hook failing = new Hook(500, 0);
        Hook slow = new Hook(200, 2_000)) {
      Latency base =
          flood(
              healthy.url(),
              "healthy",
              (app, port, events) -> {
                await()
                    .atMost(Duration.ofSeconds(20))
                    .until(
                        () ->
                            app.sample(
                                        port,
                                        "firebreak_alerts_total",
                                        labels("sink", "webhook", "result", "sent"))
                                    + app.sample(
                                        port,
                                        "firebreak_alerts_total",
                                        labels("sink", "webhook", "result", "dropped"))
                                == events);
                assertThat(healthy.bodies.get(0))
                    .startsWith("{\"time\":\"")
                    .contains(
                        "\"rule\":\"nest-depth\"",
                        "\"target\":\"nest\"",
                        "\"method\":\"down(int,int)\"",
                        "\"action\":\"limit\"")
                    .contains("\"value\":9", "\"threshold\":8", "\"thread\":\"main\"")
                    .containsPattern(
                        "\"stack\":\\[\"testapp\\.Nest\\.down\\(Nest\\.java:\\d+\\)\",\"testapp\\.Nest\\.down\\(Nest\\.java:\\d+\\) x8\",\"testapp\\.AlertApp\\.flood\\(");
              });

      int refused = refusedPort();
      bad.add(
          flood(
              "http://127.0.0.1:" + refused + "/hook",
              "refusing connections",
              (app, port, events) -> {
                assertThat(
                        app.sample(
                            port,
                            "firebreak_alerts_total",
                            labels("sink", "webhook", "result", "sent")))
                    .isZero();
                assertBoundedQueue(app, port, events);
                // 3 attempts, 0.5 s and 2 s apart
                await()
                    .atMost(Duration.ofSeconds(15))
                    .until(
                        () ->
                            app.sample(
                                    port,
                                    "firebreak_alerts_total",
                                    labels("sink", "webhook", "result", "failed"))
                                >= 1);
                assertThat(app.stderr())
                    .contains(
                        "firebreak: alert sink webhook http://127.0.0.1:"
                            + refused
                            + "/hook failed (");
              }));

      bad.add(
          flood(
              failing.url(),
              "answering 500",
              (app, port, events) -> {
                assertBoundedQueue(app, port, events);
                await()
                    .atMost(Duration.ofSeconds(15))
                    .until(
                        () ->
                            app.sample(
                                    port,
                                    "firebreak_alerts_total",
                                    labels("sink", "webhook", "result", "failed"))
                                >= 1);
                assertThat(failing.bodies.size()).isGreaterThanOrEqualTo(3);
                assertThat(
                        app.sample(
                            port,
                            "firebreak_alerts_total",
                            labels("sink", "webhook", "result", "sent")))
                    .isZero();
              }));

      bad.add(
          flood(
              slow.url(),
              "answering after 2 s",
              (app, port, events) -> {
                assertBoundedQueue(app, port, events);
                await()
                    .atMost(Duration.ofSeconds(15))
                    .until(
                        () ->
                            app.sample(
                                    port,
                                    "firebreak_alerts_total",
                                    labels("sink", "webhook", "result", "sent"))
                                >= 1);
              }));

      // "unchanged", with a bound generous enough for a shared 2-core machine (scheduling and GC
      // noise reach milliseconds) and far below what one blocking delivery would cost (2 s, or
      // 3 attempts with backoff)
      for (Latency l : bad) {
        assertThat(l.p50())
            .as("p50 with a bad webhook vs %s", base)
            .isLessThanOrEqualTo(3 * base.p50() + 100);
        assertThat(l.p99())
            .as("p99 with a bad webhook vs %s", base)
            .isLessThanOrEqualTo(5 * base.p99() + 5_000);
      }
    }
  }

  /**
   * One event in delivery and a full queue (1024) at most; everything beyond was dropped at once,
   * and counted.
   */
  private static void assertBoundedQueue(ChildJvm app, int port, int events) {
    String m = app.metrics(port);
    double settled = 0;
    for (String result : List.of("sent", "failed", "dropped")) {
      settled +=
          ChildJvm.sample(m, "firebreak_alerts_total", labels("sink", "webhook", "result", result));
    }
    assertThat(events).isGreaterThan(1025);
    assertThat(settled).isGreaterThanOrEqualTo(events - 1025.0);
    assertThat(
            ChildJvm.sample(
                m, "firebreak_alerts_total", labels("sink", "webhook", "result", "dropped")))
        .isPositive();
  }

  private static int refusedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":([^,}]+)").matcher(json);
    if (!m.find()) {
      throw new AssertionError("no " + name + " in " + json);
    }
    return m.group(1);
  }

  /**
   * A webhook receiver on a free loopback port: answers {@code status}, after {@code delayMillis}.
   */
  static final class Hook implements AutoCloseable {
    final List<String> bodies = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    Hook(int status, long delayMillis) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      server.setExecutor(
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "hook");
                t.setDaemon(true);
                return t;
              }));
      server.createContext(
          "/",
          ex -> {
            try (InputStream in = ex.getRequestBody()) {
              bodies.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
              if (delayMillis > 0) {
                try {
                  Thread.sleep(delayMillis); // the slow endpoint being simulated
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              ex.sendResponseHeaders(status, -1);
            } finally {
              ex.close();
            }
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
