package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import com.acme.chat.replay.Alertmanager;
import com.acme.chat.replay.ServiceProcess;
import com.acme.chat.util.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet end to end with a real Prometheus and Alertmanager (Debian packages {@code prometheus}
 * and {@code prometheus-alertmanager}): two service instances with the agent, the rules exported by
 * {@code export-prometheus-rules} (checked by {@code promtool} first), the bad pack on one
 * instance. The per-rule alert must fire in Prometheus for that instance only and reach
 * Alertmanager with its instance label; the p99 recording rules must have a value for both
 * instances; every query of the Grafana dashboard must evaluate.
 */
class FleetIT {
  private static final String JOB = "chat";
  private static final String TRIP_ALERT = "FirebreakEmojiRecursion";
  private static final String P99_PER_INSTANCE =
      "instance_target:firebreak_call_duration_seconds:p99_5m";
  private static final String P99_ACROSS = "target:firebreak_call_duration_seconds:p99_5m";

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  /** The binaries of the Debian packages, found with {@code dpkg -L} (or on the PATH). */
  record Binaries(Path prometheus, Path promtool, Path alertmanager) {}

  static Binaries binariesOrSkip() {
    Path prometheus = Alertmanager.findBinary("prometheus", "prometheus");
    Path promtool = Alertmanager.findBinary("prometheus", "promtool");
    Path alertmanager = Alertmanager.find();
    List<String> missing = new ArrayList<>();
    if (prometheus == null) missing.add("prometheus");
    if (promtool == null) missing.add("promtool");
    if (alertmanager == null) missing.add("prometheus-alertmanager");
    if (missing.isEmpty()) return new Binaries(prometheus, promtool, alertmanager);
    String reason =
        "FleetIT needs a real Prometheus and Alertmanager, missing: "
            + String.join(", ", missing)
            + " (apt-get install -y prometheus prometheus-alertmanager)";
    if (System.getenv("CI") != null) fail(reason + "; CI is set, so this is a failure, not a skip");
    System.out.println("SKIPPED: " + reason);
    Assumptions.assumeTrue(false, reason);
    return null;
  }

  /** A server process of the test (Prometheus), always stopped. */
  static final class Server implements AutoCloseable {
    final String name;
    final Process process;
    final Path log;
    final int port;
    private final Thread reaper;

    Server(String name, List<String> cmd, Path log, int port) throws IOException {
      this.name = name;
      this.log = log;
      this.port = port;
      this.process =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      this.reaper = new Thread(process::destroyForcibly, name + "-reaper");
      Runtime.getRuntime().addShutdownHook(reaper);
    }

    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }

    String logTail() {
      try {
        List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
      } catch (IOException e) {
        return "(no log: " + e.getMessage() + ")";
      }
    }

    @Override
    public void close() {
      com.acme.chat.replay.ServiceProcess.stop(process, reaper, 10);
    }
  }

  @SuppressWarnings("unchecked")
  @Test
  void theFleetAlertFiresInPrometheusAndReachesAlertmanagerWithTheInstance(@TempDir Path dir)
      throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Binaries bin = binariesOrSkip();
    Path shippedRules = ItSupport.rules();
    assertThat(shippedRules).as("rules/emoji-pipeline.yaml").isNotNull();
    Path rules = Files.copy(shippedRules, dir.resolve("emoji-pipeline.yaml"));

    // 1. export the Prometheus rules with the real command line, and check them with promtool
    Path promRules = dir.resolve("firebreak.rules.yml");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Exec export =
        exec(
            List.of(
                java,
                "-jar",
                agent.toString(),
                "export-prometheus-rules",
                "--selector",
                "job=\"" + JOB + "\"",
                rules.toString()));
    assertThat(export.code).as("export-prometheus-rules:\n" + export.stderr).isZero();
    Files.writeString(promRules, export.stdout);
    Exec check = exec(List.of(bin.promtool.toString(), "check", "rules", promRules.toString()));
    assertThat(check.code)
        .as("promtool check rules:\n" + check.stdout + check.stderr + "\n" + export.stdout)
        .isZero();
    assertThat(export.stdout)
        .contains("alert: " + TRIP_ALERT)
        .contains("record: " + P99_PER_INSTANCE);

    // 2. two instances of the service with the agent, each with its own /metrics port
    int metricsA = ServiceProcess.freePort();
    int metricsB = ServiceProcess.freePort();
    List<String> serveArgs = List.of("--workers", "2", "--max-retries", "3");
    try (ServiceProcess a =
            ServiceProcess.start(
                ItSupport.appJar(),
                List.of("-javaagent:" + agent + "=rules=" + rules + ",port=" + metricsA),
                serveArgs,
                dir.resolve("service-a.log"),
                Duration.ofSeconds(30));
        ServiceProcess b =
            ServiceProcess.start(
                ItSupport.appJar(),
                List.of("-javaagent:" + agent + "=rules=" + rules + ",port=" + metricsB),
                serveArgs,
                dir.resolve("service-b.log"),
                Duration.ofSeconds(30));
        Alertmanager am = startAlertmanager(bin, dir);
        Server prom =
            startPrometheus(bin, dir, promRules, am.port(), List.of(metricsA, metricsB))) {
      String instanceA = "127.0.0.1:" + metricsA;
      String instanceB = "127.0.0.1:" + metricsB;
      String context =
          "\n--- prometheus log:\n%s\n--- alertmanager log:\n%s\n--- service A log:\n%s\n--- service B log:\n%s";
      Load load = new Load(List.of(a, b));
      load.start();
      try {
        // both instances are scraped, and the exported rules are loaded
        await("both instances scraped")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(250))
            .until(() -> upInstances(prom).containsAll(List.of(instanceA, instanceB)));
        Map<String, Object> loaded = getJson(prom.uri("/api/v1/rules"));
        assertThat(Json.write(loaded))
            .contains(TRIP_ALERT)
            .contains(P99_PER_INSTANCE)
            .contains(P99_ACROSS)
            .contains("FirebreakKillSwitchOpen")
            .contains("FirebreakRulesReloadFailed");
        // let the pipeline run a few scrapes with the good pack, then the bad deploy on A only
        await("calls recorded on both")
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () ->
                    query(
                                prom,
                                "sum by (instance) (firebreak_calls_total{job=\"chat\",target=\"emoji-render\"})")
                            .stream()
                            .filter(r -> value(r) > 0)
                            .count()
                        == 2);
        Thread.sleep(1500);
        assertThat(a.deployPack("bad-update")).containsEntry("source", "shipped:bad-update");

        // the fleet alert fires in Prometheus, for instance A only
        try {
          await("alert " + TRIP_ALERT + " firing in Prometheus")
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(250))
              .until(() -> firing(prom, TRIP_ALERT).contains(instanceA));
        } catch (Throwable t) {
          throw new AssertionError(
              t.getMessage()
                  + String.format(
                      context, prom.logTail(), am.logTail(30), a.logTail(40), b.logTail(20)),
              t);
        }
        List<Map<String, Object>> alerts =
            (List<Map<String, Object>>)
                ((Map<String, Object>) getJson(prom.uri("/api/v1/alerts")).get("data"))
                    .get("alerts");
        Map<String, Object> trip =
            alerts.stream()
                .filter(
                    x ->
                        TRIP_ALERT.equals(labels(x).get("alertname"))
                            && instanceA.equals(labels(x).get("instance")))
                .findFirst()
                .orElseThrow();
        assertThat(labels(trip))
            .containsEntry("severity", "critical")
            .containsEntry("service", "chat")
            .containsEntry("team", "messaging")
            .containsEntry("rule", "emoji-recursion")
            .containsEntry("target", "emoji-render")
            .containsEntry("action", "trip")
            .containsEntry("mode", "enforce")
            .containsEntry("job", JOB);
        assertThat(((Map<String, Object>) trip.get("annotations")).get("summary").toString())
            .isEqualTo("Firebreak rule emoji-recursion fired on emoji-render at " + instanceA);

        // and reaches Alertmanager with the instance label
        await("alert " + TRIP_ALERT + " in Alertmanager")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () ->
                    alertmanagerAlerts(am).stream()
                        .anyMatch(
                            x ->
                                TRIP_ALERT.equals(labels(x).get("alertname"))
                                    && instanceA.equals(labels(x).get("instance"))
                                    && "active"
                                        .equals(
                                            ((Map<String, Object>) x.get("status")).get("state"))));
        Map<String, Object> inAm =
            alertmanagerAlerts(am).stream()
                .filter(x -> TRIP_ALERT.equals(labels(x).get("alertname")))
                .findFirst()
                .orElseThrow();
        assertThat(labels(inAm))
            .containsEntry("instance", instanceA)
            .containsEntry("severity", "critical")
            .containsEntry("service", "chat")
            .containsEntry("target", "emoji-render");
        assertThat(((Map<String, Object>) inAm.get("status")).get("state")).isEqualTo("active");

        // the kill switch alert too, for A
        await("FirebreakKillSwitchOpen firing")
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(250))
            .until(() -> firing(prom, "FirebreakKillSwitchOpen").contains(instanceA));

        // the p99 recording rules have a value for both instances, and across them
        await("p99 per instance for both")
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () ->
                    finiteInstances(query(prom, P99_PER_INSTANCE + "{target=\"emoji-render\"}"))
                        .containsAll(List.of(instanceA, instanceB)));
        for (Map<String, Object> r : query(prom, P99_PER_INSTANCE + "{target=\"emoji-render\"}")) {
          assertThat(value(r))
              .as("p99 of emoji-render on %s", metric(r).get("instance"))
              .isFinite()
              .isPositive()
              .isLessThan(10.0);
          assertThat(metric(r)).containsEntry("service", "chat").containsEntry("job", JOB);
        }
        List<Map<String, Object>> across = query(prom, P99_ACROSS + "{target=\"emoji-render\"}");
        assertThat(across).hasSize(1);
        assertThat(metric(across.get(0)))
            .doesNotContainKey("instance")
            .containsEntry("target", "emoji-render");
        assertThat(value(across.get(0))).isFinite().isPositive();

        // instance B, with the good pack, never tripped: no trip alert for it
        assertThat(firing(prom, TRIP_ALERT)).containsExactly(instanceA);

        // every query of the Grafana dashboard evaluates, and the main panels have data
        dashboardQueriesEvaluate(prom);
      } finally {
        load.stop();
        System.out.println(
            "FleetIT: load sent "
                + load.sent.get()
                + " messages, "
                + load.failed.get()
                + " not accepted");
      }
    }
  }

  // ---- the dashboard ----------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  private void dashboardQueriesEvaluate(Server prom) throws Exception {
    Path dashboard = ItSupport.rules().getParent().resolve("firebreak-dashboard.json");
    Map<String, Object> dash = Json.parseObject(Files.readString(dashboard));
    Map<String, Integer> results = new LinkedHashMap<>();
    for (Map<String, Object> panel : (List<Map<String, Object>>) dash.get("panels")) {
      for (Map<String, Object> t :
          (List<Map<String, Object>>) panel.getOrDefault("targets", List.of())) {
        String expr =
            ((String) t.get("expr"))
                .replace("$job", ".*")
                .replace("$instance", ".*")
                .replace("$target", ".*");
        Map<String, Object> r =
            getJson(
                prom.uri("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)));
        assertThat(r.get("status"))
            .as("dashboard panel '%s': %s -> %s", panel.get("title"), expr, r)
            .isEqualTo("success");
        results.put(
            panel.get("title") + ": " + expr,
            ((List<?>) ((Map<String, Object>) r.get("data")).get("result")).size());
      }
    }
    System.out.println("FleetIT: dashboard queries (series returned): " + results);
    for (Map.Entry<String, Integer> e : results.entrySet()) {
      if (e.getKey().contains("p99")
          || e.getKey().contains("firebreak_kill_switch_state")
          || e.getKey().contains("triggers")
          || e.getKey().contains("ALERTS")
          || e.getKey().contains("rules_info")) {
        assertThat(e.getValue()).as("series for %s", e.getKey()).isPositive();
      }
    }
  }

  // ---- Prometheus and Alertmanager --------------------------------------------------------------

  private Alertmanager startAlertmanager(Binaries bin, Path dir) throws Exception {
    return Alertmanager.start(
        bin.alertmanager,
        dir.resolve("alertmanager"),
        """
                route:
                  receiver: blackhole
                  group_by: [alertname, instance]
                  group_wait: 1s
                  group_interval: 5s
                  repeat_interval: 1h
                receivers:
                  - name: blackhole
                """);
  }

  private Server startPrometheus(
      Binaries bin, Path dir, Path rules, int alertmanagerPort, List<Integer> metricsPorts)
      throws Exception {
    Path home = Files.createDirectories(dir.resolve("prometheus"));
    Path config = home.resolve("prometheus.yml");
    StringBuilder targets = new StringBuilder();
    for (int p : metricsPorts)
      targets.append(targets.length() == 0 ? "" : ", ").append("'127.0.0.1:").append(p).append("'");
    Files.writeString(
        config,
        """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files:
                  - '%s'
                alerting:
                  alertmanagers:
                    - static_configs:
                        - targets: ['127.0.0.1:%d']
                scrape_configs:
                  - job_name: %s
                    static_configs:
                      - targets: [%s]
                """
            .formatted(rules, alertmanagerPort, JOB, targets));
    Exec check = exec(List.of(bin.promtool.toString(), "check", "config", config.toString()));
    assertThat(check.code).as("promtool check config:\n" + check.stdout + check.stderr).isZero();
    int port = ServiceProcess.freePort();
    Server prom =
        new Server(
            "prometheus",
            List.of(
                bin.prometheus.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + Files.createDirectories(home.resolve("data")),
                "--web.listen-address=127.0.0.1:" + port,
                "--rules.alert.resend-delay=1s"),
            home.resolve("prometheus.log"),
            port);
    waitReady(prom);
    return prom;
  }

  private void waitReady(Server s) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until) {
      if (!s.process.isAlive()) {
        throw new IOException(
            s.name + " exited with " + s.process.exitValue() + ":\n" + s.logTail());
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(s.uri("/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IOException(s.name + " was not ready within 30s:\n" + s.logTail());
  }

  private Map<String, Object> getJson(URI uri) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    String body = r.body().trim();
    if (body.startsWith("[")) return Map.of("list", Json.parse(body));
    Map<String, Object> json = Json.parseObject(body);
    if (r.statusCode() != 200 && !json.containsKey("status"))
      throw new IOException("GET " + uri + ": " + r.statusCode() + " " + body);
    return json;
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> query(Server prom, String expr) throws Exception {
    Map<String, Object> r =
        getJson(prom.uri("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)));
    assertThat(r.get("status")).as(expr + " -> " + r).isEqualTo("success");
    return (List<Map<String, Object>>) ((Map<String, Object>) r.get("data")).get("result");
  }

  @SuppressWarnings("unchecked")
  private Set<String> upInstances(Server prom) throws Exception {
    Set<String> up = new TreeSet<>();
    Map<String, Object> r = getJson(prom.uri("/api/v1/targets?state=active"));
    for (Map<String, Object> t :
        (List<Map<String, Object>>) ((Map<String, Object>) r.get("data")).get("activeTargets")) {
      if ("up".equals(t.get("health")))
        up.add((String) ((Map<String, Object>) t.get("labels")).get("instance"));
    }
    return up;
  }

  /** The instances for which {@code alertname} is firing in Prometheus. */
  @SuppressWarnings("unchecked")
  private Set<String> firing(Server prom, String alertname) throws Exception {
    Set<String> out = new TreeSet<>();
    Map<String, Object> r = getJson(prom.uri("/api/v1/alerts"));
    for (Map<String, Object> x :
        (List<Map<String, Object>>) ((Map<String, Object>) r.get("data")).get("alerts")) {
      if (alertname.equals(labels(x).get("alertname")) && "firing".equals(x.get("state"))) {
        out.add((String) labels(x).get("instance"));
      }
    }
    return out;
  }

  private List<Map<String, Object>> alertmanagerAlerts(Alertmanager am) throws Exception {
    return am.alerts();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> labels(Map<String, Object> alert) {
    return (Map<String, Object>) alert.get("labels");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> metric(Map<String, Object> sample) {
    return (Map<String, Object>) sample.get("metric");
  }

  private static double value(Map<String, Object> sample) {
    return Double.parseDouble(String.valueOf(((List<?>) sample.get("value")).get(1)));
  }

  private static Set<String> finiteInstances(List<Map<String, Object>> samples) {
    Set<String> out = new TreeSet<>();
    for (Map<String, Object> s : samples) {
      double v = value(s);
      if (Double.isFinite(v) && v > 0) out.add((String) metric(s).get("instance"));
    }
    return out;
  }

  // ---- processes and load -----------------------------------------------------------------------

  record Exec(int code, String stdout, String stderr) {}

  private static Exec exec(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    // small outputs: read stderr after stdout
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + cmd);
    }
    return new Exec(p.exitValue(), out, err);
  }

  /** Messages to every instance, some with celebration shortcodes, about 20 a second each. */
  static final class Load {
    final List<ServiceProcess> services;
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong sent = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final Thread thread;

    Load(List<ServiceProcess> services) {
      this.services = services;
      this.thread = new Thread(this::run, "fleet-load");
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    private void run() {
      String[] texts = {
        "party time :tada:",
        "hello :smile:",
        "we shipped :rocket: :tada:",
        "plain text",
        ":hooray: :party:"
      };
      for (long i = 0; running.get(); i++) {
        for (ServiceProcess s : services) {
          String text = texts[(int) (i % texts.length)];
          try {
            int code =
                s.post(
                        "/messages",
                        "{\"room\":\"fleet\",\"author\":\"load\",\"text\":\""
                            + text
                            + " "
                            + i
                            + "\"}")
                    .statusCode();
            sent.incrementAndGet();
            if (code != 202) failed.incrementAndGet();
          } catch (IOException e) {
            failed.incrementAndGet();
          } catch (InterruptedException e) {
            return;
          }
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.interrupt();
      thread.join(5000);
    }
  }
}
