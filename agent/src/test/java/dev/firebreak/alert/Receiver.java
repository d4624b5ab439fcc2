package dev.firebreak.alert;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/** An HTTP endpoint on a free loopback port that records what is POSTed and answers as told. */
final class Receiver implements AutoCloseable {
  record Request(String path, String contentType, String body) {}

  final List<Request> requests = new CopyOnWriteArrayList<>();
  private final HttpServer server;
  volatile int status = 200;

  /** Answers to give first, one per request, before falling back to {@link #status}. */
  final java.util.Queue<Integer> script = new java.util.concurrent.ConcurrentLinkedQueue<>();

  volatile long delayMillis;

  Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "receiver");
              t.setDaemon(true);
              return t;
            }));
    server.createContext(
        "/",
        ex -> {
          try (InputStream in = ex.getRequestBody()) {
            String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            requests.add(
                new Request(
                    ex.getRequestURI().getPath(),
                    ex.getRequestHeaders().getFirst("Content-Type"),
                    body));
            if (delayMillis > 0) {
              try {
                Thread.sleep(delayMillis); // the slow endpoint under test, not a wait in the test
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            Integer scripted = script.poll();
            int code = scripted != null ? scripted : status;
            byte[] reply = (code == 200 ? "" : "nope").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(code, reply.length == 0 ? -1 : reply.length);
            if (reply.length > 0) {
              ex.getResponseBody().write(reply);
            }
          } finally {
            ex.close();
          }
        });
    server.start();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  List<String> bodies() {
    return requests.stream().map(Request::body).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
