package dev.firebreak.alert;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * POSTs JSON with {@link HttpURLConnection}: it is in java.base (an application on a trimmed
 * runtime may lack java.net.http) and starts no threads of its own. Connections go direct, not
 * through the application's proxy settings, which were made for the application's traffic.
 */
final class HttpPost {
  static final int CONNECT_TIMEOUT_MILLIS = 2_000;
  static final int READ_TIMEOUT_MILLIS = 5_000;

  private final URI uri;
  private final int connectTimeoutMillis;
  private final int readTimeoutMillis;

  HttpPost(URI uri, int connectTimeoutMillis, int readTimeoutMillis) {
    this.uri = uri;
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.readTimeoutMillis = readTimeoutMillis;
  }

  URI uri() {
    return uri;
  }

  /** Sends {@code json}; returns on 2xx, throws {@link SinkException} or {@link IOException} otherwise. */
  void send(String json) throws IOException, SinkException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
    try {
      c.setConnectTimeout(connectTimeoutMillis);
      c.setReadTimeout(readTimeoutMillis);
      c.setRequestMethod("POST");
      c.setDoOutput(true);
      c.setUseCaches(false);
      c.setInstanceFollowRedirects(false);
      c.setRequestProperty("Content-Type", "application/json");
      c.setRequestProperty("User-Agent", "firebreak-agent");
      c.setFixedLengthStreamingMode(body.length);
      try (OutputStream out = c.getOutputStream()) {
        out.write(body);
      }
      int status = c.getResponseCode();
      String reply = drain(status >= 400 ? c.getErrorStream() : c.getInputStream());
      if (status >= 200 && status < 300) {
        return;
      }
      // 408, 429 and 5xx may pass later; any other answer will be the same next time
      boolean retryable = status == 408 || status == 429 || status >= 500;
      throw new SinkException("HTTP " + status + (reply.isBlank() ? "" : ": " + oneLine(reply)), retryable);
    } finally {
      c.disconnect();
    }
  }

  /** The first 200 characters of the reply, for the error message. */
  private static String drain(InputStream in) throws IOException {
    if (in == null) {
      return "";
    }
    try (in) {
      byte[] head = in.readNBytes(200);
      in.transferTo(OutputStream.nullOutputStream());
      return new String(head, StandardCharsets.UTF_8);
    }
  }

  private static String oneLine(String s) {
    return s.strip().replace('\n', ' ').replace('\r', ' ');
  }
}
