package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, item 5: a trickling endpoint cannot hold a sink's thread for good. The sink waits at
 * most connect + read timeout for the whole answer, and reads a bounded amount of it.
 */
class HttpPostTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  /**
   * A loopback endpoint that reads each request's head, then writes {@code head} and trickles
   * {@code trickle}.
   */
  static final class Trickler implements AutoCloseable {
    final ServerSocket server;
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final Thread thread;

    Trickler(String head, String trickle, long pauseMillis) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try (Socket s = server.accept()) {
                    requests.add(readHead(s.getInputStream()));
                    OutputStream out = s.getOutputStream();
                    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    for (int i = 0; ; i = (i + 1) % trickle.length()) { // until the client hangs up
                      out.write(trickle.charAt(i));
                      out.flush();
                      LockSupport.parkNanos(pauseMillis * 1_000_000);
                    }
                  } catch (IOException e) {
                    // the client gave up (what the test wants), or the test is over
                  }
                }
              },
              "trickler");
      thread.setDaemon(true);
      thread.start();
    }

    URI uri(String userInfo, String pathAndQuery) {
      return URI.create(
          "http://"
              + (userInfo == null ? "" : userInfo + "@")
              + "127.0.0.1:"
              + server.getLocalPort()
              + pathAndQuery);
    }

    private static String readHead(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          break;
        }
        b.write(c);
      }
      return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static long millisToSend(HttpPost post) {
    long t0 = System.nanoTime();
    try {
      post.send("{}");
    } catch (Exception e) {
      // the outcome is asserted by the caller
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void headersThatNeverEndAreCutOffAtTheDeadline() throws Exception {
    // a new header byte every 100 ms: far inside the 1 s read timeout, for ever
    try (Trickler t = new Trickler("HTTP/1.1 200 OK\r\nX-Slow: ", "a", 100)) {
      HttpPost post = new HttpPost(t.uri(null, "/hook"), 500, 1_000);
      // a 200 is acted on at its status line: delivered at once, whatever trickles after it
      long delivered = assertTimeoutPreemptively(BOUND, () -> millisToSend(post));
      assertThat(delivered).isLessThan(1_000);
    }
    try (Trickler t = new Trickler("HTTP/1.1 503 Busy\r\nX-Slow: ", "a", 100)) {
      HttpPost post = new HttpPost(t.uri(null, "/hook"), 500, 1_000);
      long t0 = System.nanoTime();
      assertTimeoutPreemptively(
          BOUND,
          () ->
              assertThatThrownBy(() -> post.send("{}"))
                  .isInstanceOf(IOException.class)
                  .hasMessageContaining("within 1500 ms"));
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .isBetween(Duration.ofMillis(1_400), Duration.ofMillis(4_000));
    }
  }

  @Test
  void aStatusLineTrickledByteByByteIsCutOffAtTheDeadline() throws Exception {
    try (Trickler t = new Trickler("", "HTTP/1.1 200 OK", 150)) {
      HttpPost post = new HttpPost(t.uri(null, "/hook"), 500, 1_000);
      long took = assertTimeoutPreemptively(BOUND, () -> millisToSend(post));
      assertThat(took).isBetween(1_400L, 4_000L);
    }
  }

  @Test
  void anErrorBodyThatNeverEndsIsReadOnlyToItsFirst200Bytes() throws Exception {
    try (Trickler t =
        new Trickler(
            "HTTP/1.1 500 Oops\r\nContent-Length: 100000000\r\n\r\n" + "x".repeat(300), "y", 1)) {
      HttpPost post = new HttpPost(t.uri(null, "/hook"), 500, 1_000);
      assertTimeoutPreemptively(
          BOUND,
          () ->
              assertThatThrownBy(() -> post.send("{}"))
                  .isInstanceOf(SinkException.class)
                  .hasMessage("HTTP 500: " + "x".repeat(200)));
    }
  }

  @Test
  void headersAreBounded() throws Exception {
    try (Trickler t =
        new Trickler("HTTP/1.1 500 Oops\r\n", "X-Big: " + "b".repeat(1000) + "\r\n", 0)) {
      HttpPost post = new HttpPost(t.uri(null, "/hook"), 500, 5_000);
      assertTimeoutPreemptively(
          BOUND,
          () ->
              assertThatThrownBy(() -> post.send("{}"))
                  .isInstanceOf(IOException.class)
                  .hasMessageContaining("larger than"));
    }
  }

  @Test
  void userInfoGoesAsBasicAuthAndTheQueryIsKept() throws Exception {
    try (Trickler t = new Trickler("HTTP/1.1 204 No Content\r\n\r\n", " ", 10)) {
      new HttpPost(t.uri("alert%20bot:s3cret", "/hook?team=core"), 500, 1_000).send("{\"a\":1}");
      String head = t.requests.get(0);
      assertThat(head).startsWith("POST /hook?team=core HTTP/1.1\r\n");
      // "alert bot:s3cret"
      assertThat(head)
          .contains(
              "Authorization: Basic YWxlcnQgYm90OnMzY3JldA==\r\n",
              "Content-Length: 7\r\n",
              "Content-Type: application/json\r\n",
              "Host: 127.0.0.1:" + t.server.getLocalPort() + "\r\n");
    }
  }
}
