package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AlertmanagerSinkTest {
  static final long T = Instant.parse("2026-11-24T10:00:00Z").toEpochMilli();

  static final String RULES =
      "version: 1\n"
          + "alerts: {log: 'off', repeat-interval: 30s, labels: {service: chat}}\n"
          + "targets:\n"
          + "  - name: emoji-render\n"
          + "    class: com.acme.EmojiRenderer\n"
          + "    method: expand\n"
          + "    rules:\n"
          + "      - {name: emoji-recursion, depth: 32, action: trip}\n"
          + "      - {name: emoji-other, depth: 64, action: trip}\n"
          + "      - {name: emoji-limit, depth: 16, action: limit}\n"
          + "      - {name: emoji-shadow, depth: 8, action: trip, mode: observe}\n"
          + "      - {name: emoji-slow, latency: {percentile: 99, above: 50ms, window: 30s}, action: alert}\n"
          + "      - {name: emoji-stuck, duration: 2s, action: alert}\n"
          + "      - {name: emoji-budget, calls-per-invocation: {limit: 1000, of: pipeline}, action: trip}\n"
          + "  - {name: pipeline, class: com.acme.Pipeline, method: process, rules: []}\n";

  private final AtomicLong clock = new AtomicLong(T);
  private Receiver am;
  private AlertmanagerSink sink;

  @BeforeEach
  void start() throws Exception {
    am = new Receiver();
    sink = new AlertmanagerSink(am.uri(""), rules(RULES), 1000, 2000, clock::get);
  }

  @AfterEach
  void stop() {
    am.close();
  }

  static RuleSet rules(String yaml) throws Exception {
    return RulesParser.parse("test.yaml", yaml.getBytes(StandardCharsets.UTF_8));
  }

  static AlertEvent event(
      String rule, String action, String mode, double value, double threshold, boolean resolved) {
    StackTraceElement[] stack = new StackTraceElement[34];
    for (int i = 0; i < 33; i++) {
      stack[i] =
          new StackTraceElement("com.acme.EmojiRenderer", "expand", "EmojiRenderer.java", 41);
    }
    stack[33] = new StackTraceElement("com.acme.Pipeline", "process", "Pipeline.java", 88);
    return new AlertEvent(
        T,
        rule,
        "emoji-render",
        "expand(String,int)",
        action,
        mode,
        value,
        threshold,
        resolved ? "" : "worker-3",
        Map.of("service", "chat"),
        "ab".repeat(32),
        resolved ? new StackTraceElement[0] : stack,
        resolved ? null : new AlertEvent.ArgumentInfo(0, "String", 12, "cd".repeat(32), null),
        resolved);
  }

  static String at(long millis) {
    return Instant.ofEpochMilli(millis).toString();
  }

  @Test
  void aTripFiresWithLabelsAnnotationsAndAnEndInTheFutureThenResolvesNow() throws Exception {
    sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false));
    assertThat(am.requests).hasSize(1);
    Receiver.Request r = am.requests.get(0);
    assertThat(r.path()).isEqualTo("/api/v2/alerts");
    assertThat(r.contentType()).isEqualTo("application/json");
    assertThat(r.body())
        .startsWith(
            "[{\"labels\":{\"alertname\":\"emoji-recursion\",\"mode\":\"enforce\",\"service\":\"chat\","
                + "\"severity\":\"critical\",\"target\":\"emoji-render\"}")
        .contains(
            "\"summary\":\"emoji-render: expand(String,int) reached depth 33 (limit 32); kill switch opened\"")
        .contains(
            "\"method\":\"expand(String,int)\"",
            "\"value\":\"33\"",
            "\"threshold\":\"32\"",
            "\"thread\":\"worker-3\"")
        .contains(
            "\"stack\":\"com.acme.EmojiRenderer.expand(EmojiRenderer.java:41) x33\\ncom.acme.Pipeline.process(Pipeline.java:88)\"")
        .contains("\"argument\":\"argument 0: String, length 12, sha256 " + "cd".repeat(32) + "\"")
        // refreshed every min(repeat-interval, 60s) = 30s; endsAt three of those ahead
        .contains("\"startsAt\":\"" + at(T) + "\",\"endsAt\":\"" + at(T + 90_000) + "\"");

    clock.set(T + 5_000);
    sink.send(event("emoji-recursion", "trip", "enforce", 0, 32, true));
    assertThat(am.requests).hasSize(2);
    assertThat(am.requests.get(1).body())
        .contains("\"alertname\":\"emoji-recursion\"")
        .contains(
            "reached depth 33") // the annotations of the firing alert, not of the resolved event
        .contains("\"startsAt\":\"" + at(T) + "\",\"endsAt\":\"" + at(T + 5_000) + "\"");

    // nothing left to keep alive
    clock.set(T + 40_000);
    sink.refresh();
    assertThat(am.requests).hasSize(2);
  }

  @Test
  void aClosedKillSwitchResolvesEveryTripAlertOfItsTarget() throws Exception {
    sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false));
    sink.send(event("emoji-other", "trip", "enforce", 65, 64, false));
    sink.send(event("emoji-limit", "limit", "enforce", 17, 16, false));
    clock.set(T + 1_000);
    sink.send(event("emoji-other", "trip", "enforce", 0, 64, true));
    String resolved = am.requests.get(3).body();
    assertThat(resolved)
        .contains("\"alertname\":\"emoji-recursion\"", "\"alertname\":\"emoji-other\"")
        .doesNotContain("emoji-limit");
    assertThat(resolved.split("\"endsAt\":\"" + at(T + 1_000) + "\"", -1)).hasSize(3);
  }

  @Test
  void alertsThatEndByThemselvesAreRefreshedOneOffAlertsExpireAfterTwoRepeatIntervals()
      throws Exception {
    sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false));
    sink.send(event("emoji-limit", "limit", "enforce", 17, 16, false));
    assertThat(am.requests.get(1).body())
        .contains("\"severity\":\"critical\"")
        .contains("; the call was short-circuited\"")
        .contains("\"endsAt\":\"" + at(T + 60_000) + "\"");
    assertThat(sink.refreshMillis()).isEqualTo(30_000);

    clock.set(T + 30_000);
    sink.refresh();
    assertThat(am.requests).hasSize(3);
    assertThat(am.requests.get(2).body())
        .contains("emoji-recursion")
        .contains("\"startsAt\":\"" + at(T) + "\",\"endsAt\":\"" + at(T + 120_000) + "\"")
        // the one-off alert still carries its own endsAt, so it is not re-posted
        .doesNotContain("emoji-limit");

    // fired again within its lifetime: same alert, same startsAt, later end
    clock.set(T + 45_000);
    sink.send(event("emoji-limit", "limit", "enforce", 17, 16, false));
    assertThat(am.requests.get(3).body())
        .contains("\"startsAt\":\"" + at(T) + "\",\"endsAt\":\"" + at(T + 105_000) + "\"");
  }

  @Test
  void severityAndSummaryFollowTheRule() throws Exception {
    sink.send(event("emoji-shadow", "trip", "observe", 9, 8, false));
    sink.send(event("emoji-slow", "alert", "enforce", 73.5, 50, false));
    sink.send(event("emoji-stuck", "alert", "enforce", 2051, 2000, false));
    sink.send(event("emoji-budget", "trip", "enforce", 1001, 1000, false));
    assertThat(am.requests.get(0).body())
        .contains("\"mode\":\"observe\"", "\"severity\":\"warning\"")
        .contains("reached depth 9 (limit 8); observe mode: would have done trip\"");
    assertThat(am.requests.get(1).body())
        .contains("\"severity\":\"warning\"")
        .contains(
            "\"summary\":\"emoji-render: expand(String,int) p99 latency 73.5 ms (above 50 ms)\"");
    assertThat(am.requests.get(2).body())
        .contains("has been running for 2051 ms (limit 2000 ms) on thread worker-3\"");
    assertThat(am.requests.get(3).body())
        .contains("\"severity\":\"critical\"")
        .contains(
            "was called 1001 times inside one call of pipeline (limit 1000); kill switch opened\"");
  }

  @Test
  void aResolutionThatFailedIsDeliveredByTheNextRefresh() throws Exception {
    sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false));
    am.status = 503;
    clock.set(T + 2_000);
    assertThatThrownBy(() -> sink.send(event("emoji-recursion", "trip", "enforce", 0, 32, true)))
        .isInstanceOfSatisfying(SinkException.class, e -> assertThat(e.retryable()).isTrue());
    am.status = 200;
    clock.set(T + 30_000);
    sink.refresh();
    assertThat(am.requests.get(am.requests.size() - 1).body())
        .contains("\"startsAt\":\"" + at(T) + "\",\"endsAt\":\"" + at(T + 2_000) + "\"");
    int before = am.requests.size();
    clock.set(T + 60_000);
    sink.refresh();
    assertThat(am.requests).hasSize(before);
  }

  @Test
  void aBadRequestIsNotWorthRetrying() throws Exception {
    am.status = 400;
    assertThatThrownBy(() -> sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false)))
        .isInstanceOfSatisfying(
            SinkException.class,
            e -> {
              assertThat(e.retryable()).isFalse();
              assertThat(e.getMessage()).contains("HTTP 400");
            });
  }

  @Test
  void aReloadWithoutTheRuleResolvesItsAlert() throws Exception {
    sink.send(event("emoji-recursion", "trip", "enforce", 33, 32, false));
    String without =
        RULES.replace("      - {name: emoji-recursion, depth: 32, action: trip}\n", "");
    AlertmanagerSink reloaded =
        new AlertmanagerSink(am.uri(""), rules(without), 1000, 2000, clock::get);
    assertThat(reloaded.destination()).isEqualTo(sink.destination());
    sink.reconfigure(reloaded);
    clock.set(T + 30_000);
    sink.refresh();
    assertThat(am.requests.get(1).body())
        .contains("emoji-recursion")
        .contains("\"endsAt\":\"" + at(T + 30_000) + "\"");
  }

  @Test
  void theApiPathIsAddedToABaseUrl() {
    assertThat(AlertmanagerSink.endpoint(URI.create("http://am:9093")))
        .hasToString("http://am:9093/api/v2/alerts");
    assertThat(AlertmanagerSink.endpoint(URI.create("http://am:9093/")))
        .hasToString("http://am:9093/api/v2/alerts");
    assertThat(AlertmanagerSink.endpoint(URI.create("https://gw/am/")))
        .hasToString("https://gw/am/api/v2/alerts");
    assertThat(AlertmanagerSink.endpoint(URI.create("http://am:9093/api/v2/alerts")))
        .hasToString("http://am:9093/api/v2/alerts");
  }
}
