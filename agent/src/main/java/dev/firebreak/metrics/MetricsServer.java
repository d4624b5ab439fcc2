package dev.firebreak.metrics;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * /metrics on the agent's own daemon threads (a small bounded pool), never the application's.
 * The underlying JDK server is exposed so more endpoints (admin) can share the port.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer http;
  private final HTTPServer prometheus;

  private MetricsServer(HttpServer http, HTTPServer prometheus) {
    this.http = http;
    this.prometheus = prometheus;
  }

  /**
   * Starts the server from a daemon thread: the JDK server's dispatcher thread inherits the
   * daemon flag of the thread that starts it, and a non-daemon one would keep the application's
   * JVM alive after its main method returns.
   */
  public static MetricsServer start(String host, int port, CollectorRegistry registry) throws IOException {
    java.util.concurrent.CompletableFuture<MetricsServer> result = new java.util.concurrent.CompletableFuture<>();
    Thread starter =
        new Thread(
            () -> {
              try {
                result.complete(startHere(host, port, registry));
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            },
            "firebreak-http-start");
    starter.setDaemon(true);
    starter.start();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    } catch (Exception e) {
      throw new IOException("the metrics server did not start: " + e, e);
    }
  }

  private static MetricsServer startHere(String host, int port, CollectorRegistry registry) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 16);
    ExecutorService pool =
        new ThreadPoolExecutor(
            1,
            2,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(64),
            r -> {
              Thread t = new Thread(r, "firebreak-http");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.DiscardPolicy());
    http.setExecutor(pool);
    HTTPServer prometheus;
    try {
      prometheus = new HTTPServer.Builder().withHttpServer(http).withRegistry(registry).withDaemonThreads(true).build();
    } catch (IOException | RuntimeException e) {
      http.stop(0);
      pool.shutdownNow();
      throw e;
    }
    return new MetricsServer(http, prometheus);
  }

  public HttpServer http() {
    return http;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    prometheus.close();
  }
}
