package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, item 1 (SPEC section 5: "Idle or slow clients never hold up /metrics or the admin
 * endpoints"): 200 connections that are idle, send half a request head, or announce a large body
 * and send 3 bytes of it. /metrics and an authorized admin request still answer within 1 s; the
 * unauthenticated POSTs get 401 without their body being waited for and change nothing; and the
 * server closes every one of the 200 connections by itself.
 */
public class SlowClientsIT {
  private static final String JAVA = ChildJvm.javas().findFirst().orElseThrow();
  private static final int SLOW_CLIENTS = 200;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void metricsAndAdminAnswerWithinOneSecondWhile200SlowClientsAreConnected() throws Exception {
    int port = ChildJvm.freePort();
    Path token = Files.createTempFile("admin-token", "");
    Files.writeString(token, "s3cret-token\n");
    Path file =
        ChildJvm.writeRules(
            ChildJvm.rulesHeader(port, "off", "")
                + "admin: {token-file: "
                + token
                + "}\n"
                + "targets:\n"
                + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
                + "     rules: [{name: emoji-recursion, depth: 16, action: trip}]}\n");
    List<Socket> slow = new ArrayList<>();
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      app.metrics(port); // the agent's HTTP server is up
      for (int i = 0; i < SLOW_CLIENTS; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        slow.add(s);
        switch (i % 3) {
          case 0 -> {} // idle: connects and sends nothing
          case 1 -> send(s, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "); // half a head
          default ->
              send(
                  s,
                  "POST /targets/emoji/open HTTP/1.1\r\nContent-Length: 1000000\r\n\r\nabc"); // a
            // body that stalls
        }
      }
      // the last one, as in the issue: an unauthenticated reload with a body that never comes
      Socket reload = new Socket(InetAddress.getLoopbackAddress(), port);
      slow.add(reload);
      send(
          reload, "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\nabc");
      reload.setSoTimeout(1_000);
      assertThat(firstLine(reload.getInputStream())).isEqualTo("HTTP/1.1 401 Unauthorized");

      long t0 = System.nanoTime();
      HttpResponse<String> metrics = get(port, "/metrics", null);
      Duration metricsTook = Duration.ofNanos(System.nanoTime() - t0);
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(
              ChildJvm.sample(
                  metrics.body(), "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();
      t0 = System.nanoTime();
      HttpResponse<String> targets = get(port, "/targets", "s3cret-token");
      Duration adminTook = Duration.ofNanos(System.nanoTime() - t0);
      assertThat(targets.statusCode()).isEqualTo(200);
      assertThat(targets.body()).contains("\"kill_switch\":\"closed\"");
      System.out.printf(
          "[slow-clients] with %d slow clients: /metrics %d ms, /targets %d ms%n",
          SLOW_CLIENTS + 1, metricsTook.toMillis(), adminTook.toMillis());
      assertThat(metricsTook).isLessThan(Duration.ofSeconds(1));
      assertThat(adminTook).isLessThan(Duration.ofSeconds(1));

      // none of the unauthenticated POSTs opened the kill switch
      assertThat(app.sample(port, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();
      // the server closes every slow connection by itself: evicted at once to make room, or at
      // the deadline for a request head (10 s)
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> open(slow) == 0);
      assertThat(app.stderr()).doesNotContain("Exception");
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  private HttpResponse<String> get(int port, String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Writes {@code text} as ISO-8859-1, as a raw HTTP client would. */
  public static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /** The first line the server answered (empty when it closed without a word). */
  public static String firstLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
      b.append((char) c);
    }
    return b.toString().strip();
  }

  /**
   * How many of the sockets the server has not closed yet (reading one tells: end of stream or
   * reset).
   */
  private static int open(List<Socket> sockets) throws IOException {
    int open = 0;
    byte[] buf = new byte[8192];
    for (Socket s : sockets) {
      if (s.isClosed()) {
        continue;
      }
      s.setSoTimeout(1);
      try {
        while (true) {
          int n = s.getInputStream().read(buf);
          if (n < 0) {
            s.close();
            break;
          }
          // an answer (401) before the close: read on
        }
      } catch (SocketTimeoutException e) {
        open++;
      } catch (IOException e) {
        s.close(); // reset by the server
      }
    }
    return open;
  }
}
