package dev.firebreak.benchmarks.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 GET over a fresh loopback socket ({@code Connection: close}): no client
 * threads or connection pool in the harness, and a refused connection costs one syscall, so the
 * start-up probe can poll every few milliseconds.
 */
final class Http {
  private Http() {}

  record Response(int status, String body) {}

  private static final InetAddress LOOPBACK;

  static {
    try {
      LOOPBACK = InetAddress.getByName("127.0.0.1");
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static Response get(int port, String path, int timeoutMillis) throws IOException {
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(LOOPBACK, port), timeoutMillis);
      s.setSoTimeout(timeoutMillis);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nAccept: */*\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return parse(readAll(s.getInputStream()));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(1024);
    in.transferTo(b);
    return b.toByteArray();
  }

  private static Response parse(byte[] raw) throws IOException {
    String all = new String(raw, StandardCharsets.UTF_8);
    int headEnd = all.indexOf("\r\n\r\n");
    if (!all.startsWith("HTTP/1.") || headEnd < 0)
      throw new IOException("not an HTTP response (" + raw.length + " bytes)");
    String[] statusLine = all.substring(0, all.indexOf("\r\n")).split(" ", 3);
    int status = Integer.parseInt(statusLine[1]);
    String head = all.substring(0, headEnd).toLowerCase(Locale.ROOT);
    String body = all.substring(headEnd + 4);
    if (head.contains("\r\ntransfer-encoding: chunked")) body = dechunk(body);
    return new Response(status, body);
  }

  private static String dechunk(String chunked) throws IOException {
    StringBuilder out = new StringBuilder(chunked.length());
    int i = 0;
    while (true) {
      int eol = chunked.indexOf("\r\n", i);
      if (eol < 0) throw new IOException("truncated chunked body");
      String sizeField = chunked.substring(i, eol);
      int semi = sizeField.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeField : sizeField.substring(0, semi)).trim(), 16);
      if (size == 0) return out.toString();
      // sizes count bytes; the bodies read here (metrics, JSON) are ASCII
      out.append(chunked, eol + 2, eol + 2 + size);
      i = eol + 2 + size + 2;
    }
  }

  /** A port free on the loopback interface right now. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
