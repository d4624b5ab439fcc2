package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.acme.chat.replay.AgentCli;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * During an incident: the chat service runs without the agent, the bad pack goes live, and an SRE
 * attaches Firebreak with the service's rules. Then attaches again with changed rules. On JDK 17
 * and on Temurin 25.
 */
class AttachIT {
  private static final String TEMURIN_25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static Stream<String> javas() {
    List<String> out = new ArrayList<>();
    out.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Files.isExecutable(Path.of(TEMURIN_25))) out.add(TEMURIN_25);
    else System.out.println("SKIPPED on JDK 25: no " + TEMURIN_25);
    return out.stream();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private String get(String url) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (Exception e) {
      return "";
    }
  }

  private int send(String url, String method, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
    b.method(method, HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
    if (body != null) b.header("Content-Type", "application/json");
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static double sample(String metrics, String name, String labelFragment) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$").matcher(metrics);
    while (m.find()) {
      if (m.group(1).contains(labelFragment)) return Double.parseDouble(m.group(2));
    }
    return Double.NaN;
  }

  private static String attach(String java, Path agent, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("attach"));
    cmd.addAll(List.of(args));
    AgentCli.Result r = AgentCli.run(Path.of(java), agent, cmd, Duration.ofSeconds(60));
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  @ParameterizedTest
  @MethodSource("javas")
  void attachIntoTheRunningServiceTripsTheRendererAndASecondAttachSwapsTheRules(String java)
      throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Path appJar = ItSupport.appJar();
    assertThat(appJar).as("the sample app jar").isNotNull();
    int port = freePort();
    int metricsPort = freePort();
    String base =
        Files.readString(ItSupport.rules(), StandardCharsets.UTF_8)
            .replace(
                "metrics: {host: 127.0.0.1, port: 9464}",
                "metrics: {host: 127.0.0.1, port: " + metricsPort + "}")
            .replace("log: stderr", "log: \"off\"");
    assertThat(base).contains("port: " + metricsPort);
    Path dir = Files.createTempDirectory("firebreak-attach");
    Path first = Files.writeString(dir.resolve("first.yaml"), base);
    String changed =
        base.replace(
            "kill-switch: {open-for: 10s, half-open-calls: 5}",
            "kill-switch: {open-for: 20s, half-open-calls: 5}");
    assertThat(changed).isNotEqualTo(base);
    Path second = Files.writeString(dir.resolve("second.yaml"), changed);
    Path log = dir.resolve("service.log");
    Process service =
        new ProcessBuilder(
                java,
                "-Xmx512m",
                "-jar",
                appJar.toString(),
                "serve",
                "--port",
                Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    String svc = "http://127.0.0.1:" + port;
    String metrics = "http://127.0.0.1:" + metricsPort + "/metrics";
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> get(svc + "/health").contains("ok"));
      assertThat(get(metrics)).as("no agent yet").isEmpty();

      String out = attach(java, agent, Long.toString(service.pid()), first.toString());
      assertThat(out).contains("running").contains(sha256(base));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(metrics).contains("firebreak_rules_info"));

      assertThat(send(svc + "/admin/emoji-pack?name=bad-update", "PUT", "")).isBetween(200, 299);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                send(
                    svc + "/messages",
                    "POST",
                    "{\"room\":\"r\",\"author\":\"a\",\"text\":\"party :tada:\"}");
                return sample(
                        get(metrics), "firebreak_kill_switch_state", "target=\"emoji-render\"")
                    == 1.0;
              });
      String m = get(metrics);
      assertThat(sample(m, "firebreak_rule_triggers_total", "rule=\"emoji-recursion\""))
          .isGreaterThanOrEqualTo(1);
      assertThat(sample(m, "firebreak_rules_info", "sha256=\"" + sha256(base) + "\""))
          .isEqualTo(1.0);

      String again = attach(java, agent, Long.toString(service.pid()), second.toString());
      assertThat(again).contains(sha256(changed));
      String m2 = get(metrics);
      assertThat(sample(m2, "firebreak_rules_info", "sha256=\"" + sha256(changed) + "\""))
          .isEqualTo(1.0);
      // the renderer target did not change: its kill switch stayed open across the swap
      assertThat(sample(m2, "firebreak_kill_switch_state", "target=\"emoji-render\""))
          .isEqualTo(1.0);
      String serviceLog = Files.readString(log);
      assertThat(serviceLog)
          .doesNotContain("already running")
          .doesNotContain("cannot serve /metrics");
      assertThat(serviceLog).contains("firebreak: rules reloaded from " + second);
    } finally {
      service.destroy();
      if (!service.waitFor(10, TimeUnit.SECONDS)) service.destroyForcibly();
    }
  }
}
