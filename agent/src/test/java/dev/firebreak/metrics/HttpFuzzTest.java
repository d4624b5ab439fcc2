package dev.firebreak.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.admin.AdminEndpoints;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.RuleSet;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Gauge;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Issue 16: random methods, paths, versions, headers and bodies sent to the real server. Never a
 * stack trace, a class name or a 500 in an answer; never a state change (kill switch opened or
 * closed, rules reloaded) without the bearer token; never the metrics without the basic-auth
 * credentials; never an internal error counted.
 */
class HttpFuzzTest {
  static final String TOKEN = "s3cret-token-16";
  static final String USER = "prom";
  static final String PASSWORD = "scrape-pw";
  static final String RIGHT_BASIC =
      Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));

  static final AtomicInteger changes = new AtomicInteger();
  static MetricsServer server;
  static Path dir;

  @BeforeContainer
  static void start() throws Exception {
    dir = Files.createTempDirectory("firebreak-fuzz");
    Path password = dir.resolve("password");
    Files.writeString(password, PASSWORD + "\n");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
    CollectorRegistry registry = new CollectorRegistry();
    Gauge.build()
        .name("fuzz_metric")
        .help("what the fuzzer must not see without credentials")
        .register(registry)
        .set(1);
    RuleSet.MetricsConfig config =
        new RuleSet.MetricsConfig(
            "127.0.0.1", 0, null, new RuleSet.BasicAuth(USER, password.toString()));
    server =
        MetricsServer.start("127.0.0.1", 0, config, registry, new AdminEndpoints(new Recorder()));
  }

  @AfterContainer
  static void stop() {
    server.close();
  }

  /** The agent as the admin endpoints see it; every state change is counted. */
  static final class Recorder implements AdminEndpoints.Actions {
    @Override
    public byte[] tokenDigest() {
      return AdminEndpoints.digest(TOKEN);
    }

    @Override
    public String rulesJson() {
      return "{\"rules\":null}";
    }

    @Override
    public String targetsJson() {
      return "[]";
    }

    @Override
    public boolean open(String target) {
      changes.incrementAndGet();
      return target.equals("emoji");
    }

    @Override
    public boolean close(String target) {
      changes.incrementAndGet();
      return target.equals("emoji");
    }

    @Override
    public AdminEndpoints.Result reload() {
      changes.incrementAndGet();
      return new AdminEndpoints.Result(true, "{\"result\":\"unchanged\"}");
    }
  }

  @Provide
  Arbitrary<byte[]> requests() {
    // mostly well-formed, so that the checks behind the parser are reached too
    Arbitrary<String> method =
        Arbitraries.frequencyOf(
            Tuple.of(12, Arbitraries.of("GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS")),
            Tuple.of(1, Arbitraries.of("get", "post", "", "G ET", "PATCH")),
            Tuple.of(1, Arbitraries.strings().alpha().ofMaxLength(30)),
            Tuple.of(1, Arbitraries.strings().ofMaxLength(10)));
    Arbitrary<String> target =
        Arbitraries.frequencyOf(
            Tuple.of(
                12,
                Arbitraries.of(
                    "/metrics",
                    "/rules",
                    "/targets",
                    "/targets/",
                    "/targets/emoji/open",
                    "/targets/emoji/close",
                    "/targets/nope/open",
                    "/targets//open",
                    "/reload",
                    "/reload/",
                    "/reload?now=1",
                    "//reload",
                    "/%72eload",
                    "/targets/emoji/open/../close",
                    "/",
                    "*",
                    "http://127.0.0.1/reload",
                    "/metrics?name[]=x",
                    "",
                    "/\u00e9")),
            Tuple.of(1, Arbitraries.strings().ofMaxLength(200)),
            Tuple.of(
                2,
                Arbitraries.strings()
                    .withChars("/abcdeilmnoprstuv%.?&=-")
                    .ofMaxLength(60)
                    .map(s -> "/" + s)),
            Tuple.of(
                1, Arbitraries.integers().between(7_000, 20_000).map(n -> "/" + "a".repeat(n))));
    Arbitrary<String> version =
        Arbitraries.frequencyOf(
            Tuple.of(8, Arbitraries.of("HTTP/1.1", "HTTP/1.0")),
            Tuple.of(1, Arbitraries.of("HTTP/2", "HTTP/1.1 x", "", "http/1.1", "HTTP/9.9")));
    Arbitrary<String> header =
        Arbitraries.frequencyOf(
            Tuple.of(
                30,
                Arbitraries.of(
                    "Authorization: Bearer wrong",
                    "Authorization: Bearer",
                    "Authorization: Bearer  ",
                    "Authorization: Bearer " + TOKEN + "x",
                    "Authorization: Bearer " + TOKEN.substring(1),
                    "Authorization: " + TOKEN,
                    "Authorization: Basic "
                        + Base64.getEncoder()
                            .encodeToString((USER + ":wrong").getBytes(StandardCharsets.UTF_8)),
                    "Authorization: Basic "
                        + Base64.getEncoder()
                            .encodeToString((USER + ":").getBytes(StandardCharsets.UTF_8)),
                    "Authorization: Basic !!!",
                    "Authorization: Basic",
                    "Content-Length: 0",
                    "Content-Length: 3",
                    "Content-Length: -1",
                    "Content-Length: 1000000",
                    "Content-Length: abc",
                    "Content-Length: 99999999999999999999",
                    "Transfer-Encoding: chunked",
                    "Host: 127.0.0.1",
                    "Accept: application/openmetrics-text; version=1.0.0",
                    "Expect: 100-continue",
                    "Connection: keep-alive")),
            Tuple.of(
                1,
                Arbitraries.of(
                    "no colon here",
                    " folded continuation",
                    ": empty name",
                    "X-Big: " + "b".repeat(20_000))),
            Tuple.of(
                1,
                Combinators.combine(
                        Arbitraries.strings().ofMaxLength(20),
                        Arbitraries.strings().ofMaxLength(80))
                    .as((n, v) -> n + ": " + v)),
            Tuple.of(
                1,
                Combinators.combine(
                        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20),
                        Arbitraries.strings().ofMaxLength(80))
                    .as((n, v) -> n + ": " + v)));
    // the credentials, if any, come first: the first of repeated headers counts
    Arbitrary<String> credentials =
        Arbitraries.frequencyOf(
            Tuple.of(2, Arbitraries.just("")),
            Tuple.of(
                3,
                Arbitraries.of("Authorization: Bearer " + TOKEN, "authorization: bearer " + TOKEN)),
            Tuple.of(2, Arbitraries.just("Authorization: Basic " + RIGHT_BASIC)));
    Arbitrary<String> eol = Arbitraries.of("\r\n", "\r\n", "\n");
    Arbitrary<byte[]> body = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    return Combinators.combine(
            method,
            target,
            version,
            credentials,
            header.list().ofMaxSize(3),
            eol,
            body,
            Arbitraries.of(true, true, true, false))
        .as(
            (m, t, v, c, headers, e, b, complete) -> {
              ByteArrayOutputStream out = new ByteArrayOutputStream();
              StringBuilder head =
                  new StringBuilder(m).append(' ').append(t).append(' ').append(v).append(e);
              if (!c.isEmpty()) {
                head.append(c).append(e);
              }
              for (String h : headers) {
                head.append(h).append(e);
              }
              if (complete) {
                head.append(
                    e); // else the head never ends: the server must give up without answering
              }
              out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
              out.writeBytes(b);
              return out.toByteArray();
            });
  }

  @Property(tries = 1000)
  void noStackTraceNoInternalErrorAndNoStateChangeWithoutTheToken(
      @ForAll("requests") byte[] request) throws Exception {
    int changesBefore = changes.get();
    long errorsBefore = httpErrors();
    String answer = send(request);
    String sent = new String(request, StandardCharsets.UTF_8);
    if (!answer.isEmpty()) {
      assertThat(answer).matches("(?s)HTTP/1\\.1 [1-5][0-9][0-9] .*");
      assertThat(answer).doesNotStartWith("HTTP/1.1 500");
    }
    assertThat(answer)
        .doesNotContain("Exception", "\tat ", "java.", "dev.firebreak", "io.prometheus");
    if (changes.get() != changesBefore) {
      assertThat(sent)
          .as("a state change without the token")
          .matches("(?is)POST /(targets|reload).*\nauthorization: bearer " + TOKEN + "\r?\n.*");
    }
    if (answer.contains("fuzz_metric")) {
      assertThat(sent).as("metrics without credentials").contains("Basic " + RIGHT_BASIC);
    }
    assertThat(httpErrors()).isEqualTo(errorsBefore);
    Statistics.label("answer").collect(answer.isEmpty() ? "none" : answer.substring(9, 12));
    Statistics.label("state changed").collect(changes.get() != changesBefore);
    // the generator must reach the interesting cases, not only garbage
    Statistics.label("answer")
        .coverage(
            c -> {
              c.check("200").count(n -> n > 0);
              c.check("401").count(n -> n > 0);
              c.check("none").count(n -> n > 0);
            });
    Statistics.label("state changed").coverage(c -> c.check(true).count(n -> n > 0));
  }

  private static long httpErrors() {
    LongAdder a = AgentErrors.counts().get("http");
    return a == null ? 0 : a.sum();
  }

  /**
   * Sends the bytes, closes the sending side, and reads whatever comes back until the server
   * closes.
   */
  static String send(byte[] request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
        s.shutdownOutput();
      } catch (IOException e) {
        // the server answered (431) and closed before the whole request was written
      }
      InputStream in = s.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      try {
        in.transferTo(answer);
      } catch (IOException e) {
        // a reset after the answer: what was read counts
      }
      return answer.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Example
  void theRightCredentialsWork() throws Exception {
    String metrics =
        send(
            ("GET /metrics HTTP/1.1\r\nAuthorization: Basic " + RIGHT_BASIC + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(metrics).startsWith("HTTP/1.1 200 ").contains("fuzz_metric 1.0");
    String noCredentials = send("GET /metrics HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
    assertThat(noCredentials)
        .startsWith("HTTP/1.1 401 ")
        .contains("WWW-Authenticate: Basic realm=\"firebreak\"");
    int before = changes.get();
    String opened =
        send(
            ("POST /targets/emoji/open HTTP/1.1\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(opened).startsWith("HTTP/1.1 200 ").contains("\"kill_switch\":\"open\"");
    assertThat(changes.get()).isEqualTo(before + 1);
  }
}
