package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: {@code metrics: {tls: ..., basic-auth: ...}} with a keystore made by {@code keytool},
 * scraped by a real {@code curl --cacert} and by a real Prometheus (Debian package {@code
 * prometheus}) whose scrape config uses {@code scheme: https}, {@code tls_config.ca_file} and
 * {@code basic_auth}: the target is up.
 */
class MetricsTlsIT {
  private static final String JAVA = ChildJvm.javas().findFirst().orElseThrow();
  private static final String USER = "prometheus";

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  record Result(int code, String out) {}

  private static Result run(Path dir, String... cmd) throws Exception {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", cmd) + " did not finish");
    }
    return new Result(p.exitValue(), Files.readString(out));
  }

  private static Path secret(Path dir, String name, String value) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, value + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  /** curl's exit code, HTTP status and body for https://127.0.0.1:PORT/metrics. */
  private static Result curl(Path dir, Path ca, int port, String credentials, String scheme)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-sS",
                "--max-time",
                "5",
                "--cacert",
                ca.toString(),
                "-w",
                "\nstatus=%{http_code}",
                scheme + "://127.0.0.1:" + port + "/metrics"));
    if (credentials != null) {
      cmd.addAll(1, List.of("-u", credentials));
    }
    return run(dir, cmd.toArray(new String[0]));
  }

  @Test
  void curlAndARealPrometheusScrapeOverTlsWithBasicAuth(@TempDir Path dir) throws Exception {
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Path keystore = dir.resolve("metrics.p12");
    String storePassword = "changeit-" + Long.toHexString(System.nanoTime());
    Result gen =
        run(
            dir,
            keytool,
            "-genkeypair",
            "-alias",
            "firebreak",
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
            "-dname",
            "CN=127.0.0.1",
            "-ext",
            "SAN=ip:127.0.0.1,dns:localhost",
            "-validity",
            "2",
            "-storetype",
            "PKCS12",
            "-keystore",
            keystore.toString(),
            "-storepass",
            storePassword,
            "-keypass",
            storePassword);
    assertThat(gen.code()).as(gen.out()).isZero();
    Path ca = dir.resolve("metrics.pem");
    Result export =
        run(
            dir,
            keytool,
            "-exportcert",
            "-rfc",
            "-alias",
            "firebreak",
            "-keystore",
            keystore.toString(),
            "-storepass",
            storePassword,
            "-file",
            ca.toString());
    assertThat(export.code()).as(export.out()).isZero();
    Path storePasswordFile = secret(dir, "keystore-password", storePassword);
    Path scrapePasswordFile = secret(dir, "scrape-password", "scrape-pw-1");

    int port = ChildJvm.freePort();
    Path rules =
        ChildJvm.writeRules(
            "version: 1\n"
                + "metrics:\n"
                + "  host: 127.0.0.1\n"
                + "  port: "
                + port
                + "\n"
                + "  tls: {keystore: "
                + keystore
                + ", password-file: "
                + storePasswordFile
                + "}\n"
                + "  basic-auth: {user: "
                + USER
                + ", password-file: "
                + scrapePasswordFile
                + "}\n"
                + "alerts: {log: off}\n"
                + "reload: {watch: false}\n"
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, rules: []}\n");
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + rules, "plain")) {
      app.awaitLine("READY");
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  curl(dir, ca, port, USER + ":scrape-pw-1", "https").out().endsWith("status=200"));

      Result ok = curl(dir, ca, port, USER + ":scrape-pw-1", "https");
      assertThat(ok.code()).isZero();
      assertThat(ok.out())
          .contains("firebreak_rules_info{", "firebreak_calls_total")
          .endsWith("status=200");
      assertThat(curl(dir, ca, port, null, "https").out())
          .endsWith("status=401")
          .doesNotContain("firebreak_");
      assertThat(curl(dir, ca, port, USER + ":wrong", "https").out())
          .endsWith("status=401")
          .doesNotContain("firebreak_");
      assertThat(curl(dir, ca, port, "someone:scrape-pw-1", "https").out()).endsWith("status=401");
      // the port speaks TLS only: plain HTTP gets no metrics
      Result plain = curl(dir, ca, port, USER + ":scrape-pw-1", "http");
      assertThat(plain.code()).isNotZero();
      assertThat(plain.out()).doesNotContain("firebreak_");
      // without the CA the client does not trust the certificate (curl's exit 60)
      assertThat(
              run(
                      dir,
                      "curl",
                      "-sS",
                      "--max-time",
                      "5",
                      "-u",
                      USER + ":scrape-pw-1",
                      "https://127.0.0.1:" + port + "/metrics")
                  .code())
          .isEqualTo(60);

      // the password file is read at every scrape: a rotated password is in force at once
      Files.writeString(scrapePasswordFile, "scrape-pw-2\n");
      assertThat(curl(dir, ca, port, USER + ":scrape-pw-2", "https").out()).endsWith("status=200");
      assertThat(curl(dir, ca, port, USER + ":scrape-pw-1", "https").out()).endsWith("status=401");

      Path prometheus = prometheusOrSkip();
      scrapedByPrometheus(prometheus, dir, ca, scrapePasswordFile, port);
      assertThat(app.stderr()).doesNotContain("Exception");
    }
  }

  private void scrapedByPrometheus(
      Path prometheus, Path dir, Path ca, Path passwordFile, int metricsPort) throws Exception {
    Path home = Files.createDirectories(dir.resolve("prometheus"));
    Path config = home.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: firebreak
            scheme: https
            tls_config:
              ca_file: '%s'
            basic_auth:
              username: %s
              password_file: '%s'
            static_configs:
              - targets: ['127.0.0.1:%d']
        """
            .formatted(ca, USER, passwordFile, metricsPort));
    int port = ChildJvm.freePort();
    Path log = home.resolve("prometheus.log");
    Process p =
        new ProcessBuilder(
                prometheus.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + Files.createDirectories(home.resolve("data")),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    String[] targets = {""};
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                if (!p.isAlive()) {
                  throw new AssertionError("prometheus exited: " + Files.readString(log));
                }
                try {
                  targets[0] =
                      http.send(
                              HttpRequest.newBuilder(
                                      URI.create(
                                          "http://127.0.0.1:"
                                              + port
                                              + "/api/v1/targets?state=active"))
                                  .timeout(Duration.ofSeconds(2))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                          .body();
                } catch (IOException e) {
                  return false; // not listening yet
                }
                return targets[0].contains("\"health\":\"up\"");
              });
    } catch (RuntimeException e) {
      throw new AssertionError(
          "the target did not come up in Prometheus: "
              + targets[0]
              + "\n--- prometheus log:\n"
              + Files.readString(log),
          e);
    } finally {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    assertThat(targets[0])
        .contains(
            "\"scrapeUrl\":\"https://127.0.0.1:" + metricsPort + "/metrics\"",
            "\"lastError\":\"\"");
  }

  /** The Debian package's binary (or one on the PATH); a failure on CI, a skip elsewhere. */
  private static Path prometheusOrSkip() {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, "prometheus");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    String reason = "MetricsTlsIT needs a real Prometheus (apt-get install -y prometheus)";
    if (System.getenv("CI") != null) {
      fail(reason + "; CI is set, so this is a failure, not a skip");
    }
    System.out.println("SKIPPED: " + reason);
    Assumptions.assumeTrue(false, reason);
    return null;
  }
}
