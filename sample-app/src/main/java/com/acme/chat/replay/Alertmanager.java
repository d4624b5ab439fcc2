package com.acme.chat.replay;

import com.acme.chat.util.Json;
import java.io.File;
import java.io.IOException;
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
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus Alertmanager (the Debian package {@code prometheus-alertmanager}) as a child
 * process on a free loopback port, with its own configuration, storage and log under one directory.
 * It can be stopped and started again on the same port, as an outage of the alerting path would
 * look to the agent.
 */
public final class Alertmanager implements AutoCloseable {
  /** Accepts alerts and notifies nobody. */
  public static final String BLACKHOLE_CONFIG =
      "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n";

  private final Path binary;
  private final Path home;
  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private Process process;
  private Thread reaper;

  private Alertmanager(Path binary, Path home, int port) {
    this.binary = binary;
    this.home = home;
    this.port = port;
  }

  /**
   * The Alertmanager binary: {@code $FIREBREAK_ALERTMANAGER}, the Debian package's ({@code
   * prometheus-alertmanager}), or upstream's {@code alertmanager} on the PATH; null if none.
   */
  public static Path find() {
    String env = System.getenv("FIREBREAK_ALERTMANAGER");
    if (env != null && !env.isBlank() && Files.isExecutable(Path.of(env))) return Path.of(env);
    Path p = findBinary("prometheus-alertmanager", "prometheus-alertmanager");
    return p != null ? p : findBinary("prometheus-alertmanager", "alertmanager");
  }

  /**
   * A binary of a Debian package, found with {@code dpkg -L}, else on the PATH; null if neither has
   * it.
   */
  public static Path findBinary(String debianPackage, String binary) {
    try {
      Process p = new ProcessBuilder("dpkg", "-L", debianPackage).redirectErrorStream(true).start();
      String listing = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
        for (String line : listing.lines().toList()) {
          if (line.endsWith("/bin/" + binary) && Files.isExecutable(Path.of(line)))
            return Path.of(line);
        }
      }
    } catch (IOException e) {
      // no dpkg: look on the PATH
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (d.isEmpty()) continue;
      Path p = Path.of(d, binary);
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  /**
   * Writes {@code config} to {@code home/alertmanager.yml}, starts it on a free port and waits
   * until it is ready.
   */
  public static Alertmanager start(Path binary, Path home, String config)
      throws IOException, InterruptedException {
    Files.createDirectories(home.resolve("data"));
    Files.writeString(home.resolve("alertmanager.yml"), config, StandardCharsets.UTF_8);
    Alertmanager am = new Alertmanager(binary, home, ServiceProcess.freePort());
    am.start();
    return am;
  }

  /** Starts it (again, on the same port, configuration and storage) and waits until it is ready. */
  public synchronized void start() throws IOException, InterruptedException {
    if (running()) return;
    List<String> cmd =
        List.of(
            binary.toString(),
            "--config.file=" + home.resolve("alertmanager.yml"),
            "--storage.path=" + home.resolve("data"),
            "--web.listen-address=127.0.0.1:" + port,
            "--cluster.listen-address=");
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
            .start();
    Process p = process;
    reaper = new Thread(p::destroyForcibly, "alertmanager-reaper-" + p.pid());
    Runtime.getRuntime().addShutdownHook(reaper);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until) {
      if (!p.isAlive())
        throw new IOException("Alertmanager exited with " + p.exitValue() + ":\n" + logTail(30));
      if (status("/-/ready") == 200) return;
      Thread.sleep(100);
    }
    throw new IOException("Alertmanager was not ready within 30s:\n" + logTail(30));
  }

  /** Stops it (SIGTERM, then killed after 10 s); {@link #start()} brings it back. */
  public synchronized void stop() {
    if (process != null) ServiceProcess.stop(process, reaper, 10);
    process = null;
  }

  public synchronized boolean running() {
    return process != null && process.isAlive();
  }

  public int port() {
    return port;
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  public Path log() {
    return home.resolve("alertmanager.log");
  }

  /** {@code GET /api/v2/alerts}: the alerts it holds (active, suppressed or unprocessed). */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> alerts() throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/api/v2/alerts")).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200)
      throw new IOException("GET /api/v2/alerts: " + r.statusCode() + " " + r.body());
    return (List<Map<String, Object>>) Json.parse(r.body());
  }

  private int status(String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(2)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  public String logTail(int lines) {
    try {
      List<String> all = new ArrayList<>(Files.readAllLines(log(), StandardCharsets.UTF_8));
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    stop();
  }
}
