package dev.firebreak.alert;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * POSTs JSON over one HTTP/1.1 connection of its own ({@code Connection: close}), on a plain {@link
 * Socket} so that every byte read is bounded and the whole exchange has a deadline: an endpoint
 * that trickles its answer a byte at a time, or never finishes its TLS handshake, holds the sink's
 * thread for at most {@code connect + read} timeout. (A per-read timeout alone, as {@code
 * HttpURLConnection} has, lets a trickle go on for good.) At the deadline a shared daemon thread
 * ({@code firebreak-alerts-deadline}, started on first use, gone after a minute idle) closes the
 * socket, which ends any read or handshake in progress.
 *
 * <p>Only the status line, at most {@value #MAX_HEAD_BYTES} bytes of headers and the first {@value
 * #MAX_REPLY_BYTES} bytes of an error answer are read; a 2xx answer is done after its status line.
 * Connections go direct, not through the application's proxy settings, which were made for the
 * application's traffic. User-info in the URL is sent as basic auth; the default {@link
 * SSLSocketFactory} (the JVM's trust store) checks an https endpoint's certificate and name.
 */
final class HttpPost {
  static final int CONNECT_TIMEOUT_MILLIS = 2_000;
  static final int READ_TIMEOUT_MILLIS = 5_000;
  static final int MAX_HEAD_BYTES = 32 * 1024;
  static final int MAX_REPLY_BYTES = 200;
  private static final int MAX_LINE_BYTES = 8 * 1024;

  private final URI uri;
  private final int connectTimeoutMillis;
  private final int readTimeoutMillis;

  HttpPost(URI uri, int connectTimeoutMillis, int readTimeoutMillis) {
    this.uri = uri;
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.readTimeoutMillis = readTimeoutMillis;
    String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException("expected an http:// or https:// URL with a host");
    }
  }

  URI uri() {
    return uri;
  }

  /**
   * Sends {@code json}; returns on 2xx, throws {@link SinkException} or {@link IOException}
   * otherwise.
   */
  void send(String json) throws IOException, SinkException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    boolean https = uri.getScheme().equalsIgnoreCase("https");
    int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
    long deadline = (long) connectTimeoutMillis + readTimeoutMillis;
    Socket socket = new Socket(Proxy.NO_PROXY);
    AtomicBoolean expired = new AtomicBoolean();
    ScheduledFuture<?> guard = Deadlines.closeLater(socket, deadline, expired);
    try {
      socket.connect(new InetSocketAddress(uri.getHost(), port), connectTimeoutMillis);
      socket.setSoTimeout(readTimeoutMillis);
      Socket s = https ? tls(socket, port) : socket;
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      out.write(head(body.length, port, https));
      out.write(body);
      out.flush();
      InputStream in = new BufferedInputStream(s.getInputStream());
      int[] budget = {MAX_HEAD_BYTES};
      int status = status(line(in, budget));
      while (status < 200) {
        skipHeaders(in, budget); // 1xx: an interim answer, the real one follows
        status = status(line(in, budget));
      }
      if (status < 300) {
        return; // delivered; the rest of the answer is not needed
      }
      long length = skipHeaders(in, budget);
      String reply =
          new String(
              in.readNBytes((int) Math.min(MAX_REPLY_BYTES, length < 0 ? MAX_REPLY_BYTES : length)),
              StandardCharsets.UTF_8);
      // 408, 429 and 5xx may pass later; any other answer will be the same next time
      boolean retryable = status == 408 || status == 429 || status >= 500;
      throw new SinkException(
          "HTTP " + status + (reply.isBlank() ? "" : ": " + oneLine(reply)), retryable);
    } catch (IOException e) {
      if (expired.get()) {
        throw new SocketTimeoutException("no complete answer within " + deadline + " ms");
      }
      throw e;
    } finally {
      guard.cancel(false);
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing is all that was left
      }
    }
  }

  private Socket tls(Socket plain, int port) throws IOException {
    SSLSocket s =
        (SSLSocket)
            ((SSLSocketFactory) SSLSocketFactory.getDefault())
                .createSocket(plain, uri.getHost(), port, true);
    SSLParameters p = s.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  private byte[] head(int length, int port, boolean https) {
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    boolean defaultPort = port == (https ? 443 : 80);
    StringBuilder b =
        new StringBuilder(256)
            .append("POST ")
            .append(path)
            .append(" HTTP/1.1\r\n")
            .append("Host: ")
            .append(uri.getHost())
            .append(defaultPort ? "" : ":" + port)
            .append("\r\n")
            .append("User-Agent: firebreak-agent\r\n")
            .append("Content-Type: application/json\r\n")
            .append("Content-Length: ")
            .append(length)
            .append("\r\n")
            .append("Connection: close\r\n");
    if (uri.getUserInfo() != null) {
      String credentials =
          Base64.getEncoder().encodeToString(uri.getUserInfo().getBytes(StandardCharsets.UTF_8));
      b.append("Authorization: Basic ").append(credentials).append("\r\n");
    }
    return b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /** One header line without its CRLF, charged to {@code budget}; bounded in length. */
  private static String line(InputStream in, int[] budget) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the connection closed before the answer was complete");
      }
      if (--budget[0] < 0 || b.size() >= MAX_LINE_BYTES) {
        throw new IOException("answer headers larger than " + MAX_HEAD_BYTES + " bytes");
      }
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
  }

  private static int status(String line) throws IOException {
    // "HTTP/1.1 200 OK"
    if (line.startsWith("HTTP/") && line.length() >= 12 && line.charAt(8) == ' ') {
      try {
        return Integer.parseInt(line.substring(9, 12));
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new IOException("not an HTTP answer");
  }

  /** Reads up to the empty line; the Content-Length, or -1 when none is given. */
  private static long skipHeaders(InputStream in, int[] budget) throws IOException {
    long length = -1;
    for (String h = line(in, budget); !h.isEmpty(); h = line(in, budget)) {
      if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        try {
          length = Long.parseLong(h.substring(15).trim());
        } catch (NumberFormatException e) {
          length = -1;
        }
      }
    }
    return length;
  }

  private static String oneLine(String s) {
    return s.strip().replace('\n', ' ').replace('\r', ' ');
  }

  /** Closes sockets whose exchange ran out of time; one daemon thread, only while needed. */
  private static final class Deadlines {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private static ScheduledThreadPoolExecutor timer() {
      ScheduledThreadPoolExecutor t =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread th = new Thread(r, "firebreak-alerts-deadline");
                th.setDaemon(true);
                return th;
              });
      t.setRemoveOnCancelPolicy(true);
      t.setKeepAliveTime(60, TimeUnit.SECONDS);
      t.allowCoreThreadTimeOut(true);
      return t;
    }

    /** Closes {@code socket} in {@code millis} unless cancelled; sets {@code expired} first. */
    static ScheduledFuture<?> closeLater(Socket socket, long millis, AtomicBoolean expired) {
      return TIMER.schedule(
          () -> {
            expired.set(true);
            try {
              socket.close();
            } catch (IOException ignored) {
              // already closed
            }
          },
          millis,
          TimeUnit.MILLISECONDS);
    }
  }
}
