package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import com.acme.chat.replay.Alertmanager;
import com.acme.chat.replay.ServiceProcess;
import com.acme.chat.util.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end against a real Prometheus Alertmanager (Debian package {@code
 * prometheus-alertmanager}, which {@code .ci/run} installs): the chat service with the agent and a
 * copy of rules/emoji-pipeline.yaml pointing {@code alerts.alertmanager} at it. The bad pack fires
 * the alert, the good pack resolves it.
 */
class AlertmanagerIT {
  private static final String RULE = "emoji-recursion";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The Alertmanager binary; outside CI a missing one skips the test (printed), on CI it fails. */
  static Path alertmanagerOrSkip() {
    Path p = Alertmanager.find();
    if (p != null) return p;
    String reason =
        "no Alertmanager binary (apt-get install prometheus-alertmanager, or set FIREBREAK_ALERTMANAGER)";
    if (System.getenv("CI") != null) fail(reason + "; CI is set, so this is a failure, not a skip");
    System.out.println("SKIPPED: AlertmanagerIT: " + reason);
    Assumptions.assumeTrue(false, reason);
    return null;
  }

  @Test
  void theBadPackFiresTheAlertInAlertmanagerAndTheGoodPackResolvesIt(@TempDir Path dir)
      throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Path binary = alertmanagerOrSkip();
    try (Alertmanager am =
        Alertmanager.start(binary, dir.resolve("alertmanager"), Alertmanager.BLACKHOLE_CONFIG)) {
      URI base = am.uri("");
      Path rules = rulesFor(base, dir.resolve("emoji-pipeline.yaml"));
      int metricsPort = ServiceProcess.freePort();
      try (ServiceProcess s =
          ServiceProcess.start(
              ItSupport.appJar(),
              List.of("-javaagent:" + agent + "=rules=" + rules + ",port=" + metricsPort),
              List.of("--workers", "2"),
              dir.resolve("service.log"),
              Duration.ofSeconds(30))) {
        // the agent's /metrics answers once its rules are in force (the renderer is watched from
        // its first call by default, but the HTTP server may come up after the service's own)
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(100))
            .ignoreExceptions()
            .until(
                () ->
                    get(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                        .contains("firebreak_rules_info"));
        long bad = System.nanoTime();
        s.deployPack("bad-update");
        await()
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  celebrate(s);
                  return alert(base) != null;
                });
        System.out.printf(
            "[alertmanager-it] alert in Alertmanager %.2f s after the bad deploy%n",
            (System.nanoTime() - bad) / 1e9);
        Map<String, Object> alert = alert(base);
        assertThat(labels(alert, "labels"))
            .containsEntry("alertname", RULE)
            .containsEntry("target", "emoji-render")
            .containsEntry("severity", "critical")
            .containsEntry("mode", "enforce")
            .containsEntry("service", "chat")
            .containsEntry("team", "messaging");
        Map<String, String> annotations = labels(alert, "annotations");
        assertThat(annotations)
            .containsEntry("method", "expand(String,int)")
            .containsEntry("value", "33")
            .containsEntry("threshold", "32")
            .containsEntry("action", "trip");
        assertThat(annotations.get("summary"))
            .isEqualTo(
                "emoji-render: expand(String,int) reached depth 33 (limit 32); kill switch opened");
        assertThat(annotations.get("stack").split("\n"))
            .anySatisfy(
                l ->
                    assertThat(l)
                        .matches(
                            "com\\.acme\\.chat\\.render\\.EmojiRenderer\\.expand\\(EmojiRenderer\\.java:\\d+\\) x\\d+"))
            .anySatisfy(l -> assertThat(l).startsWith("com.acme.chat.pipeline.Pipeline.process("));
        assertThat(annotations.get("argument"))
            .startsWith("argument 0: String, length ")
            .contains("sha256 ");
        assertThat(((Map<?, ?>) alert.get("status")).get("state")).isEqualTo("active");
        assertThat(Instant.parse((String) alert.get("endsAt"))).isAfter(Instant.now());

        long good = System.nanoTime();
        s.deployPack("default");
        // the kill switch half-opens after open-for; trial messages close it; the agent resolves
        // the alert
        await()
            .atMost(Duration.ofSeconds(40))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  celebrate(s);
                  return alert(base) == null;
                });
        System.out.printf(
            "[alertmanager-it] alert resolved %.2f s after the good pack%n",
            (System.nanoTime() - good) / 1e9);
        String metrics = get(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"));
        assertThat(metrics)
            .containsPattern(
                "firebreak_alerts_total\\{sink=\"alertmanager\",result=\"sent\",?\\} [2-9]")
            .contains("firebreak_alerts_total{sink=\"alertmanager\",result=\"failed\",} 0.0");
      }
    }
  }

  /**
   * A copy of the SRE's rules file that also sends to this Alertmanager, with a short open-for to
   * keep the test short.
   */
  private static Path rulesFor(URI alertmanager, Path to) throws Exception {
    Path original = ItSupport.rules();
    assertThat(original).as("rules/emoji-pipeline.yaml").isNotNull();
    String text = Files.readString(original, StandardCharsets.UTF_8);
    String copy =
        text.replaceFirst("(?m)^alerts:[ \\t]*$", "alerts:\n  alertmanager: " + alertmanager)
            .replaceFirst("open-for: \\d+[a-z]+", "open-for: 2s");
    assertThat(copy)
        .as("the rules file has an alerts: block")
        .contains("alertmanager: " + alertmanager);
    Files.writeString(to, copy, StandardCharsets.UTF_8);
    return to;
  }

  private static void celebrate(ServiceProcess s) throws Exception {
    s.post("/messages", "{\"room\":\"r\",\"author\":\"a\",\"text\":\"party time :tada:\"}");
  }

  /** The active alert of the rule in Alertmanager, or null. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> alert(URI base) throws Exception {
    List<Object> alerts = (List<Object>) Json.parse(get(base.resolve("/api/v2/alerts")));
    for (Object o : alerts) {
      Map<String, Object> a = (Map<String, Object>) o;
      if (RULE.equals(((Map<String, Object>) a.get("labels")).get("alertname"))) return a;
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> labels(Map<String, Object> alert, String key) {
    return (Map<String, String>) alert.get(key);
  }

  private String get(URI uri) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + uri).isEqualTo(200);
    return r.body();
  }
}
