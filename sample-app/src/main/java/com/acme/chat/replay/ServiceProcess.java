package com.acme.chat.replay;

import com.acme.chat.Main;
import com.acme.chat.util.Json;
import java.io.IOException;
import java.net.ServerSocket;
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
 * The chat service as a child JVM (optionally with the Firebreak agent), and a client for its API.
 */
public final class ServiceProcess implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  private final Thread reaper;

  private ServiceProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
    // never leave a child JVM behind, even when this JVM is stopped half way
    this.reaper = new Thread(process::destroyForcibly, "service-reaper-" + process.pid());
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * Starts {@code java [jvmArgs] -jar app.jar serve --port P [serveArgs]} (or with the test class
   * path when there is no app jar) and waits until {@code /health} answers.
   */
  public static ServiceProcess start(
      Path appJar, List<String> jvmArgs, List<String> serveArgs, Path log, Duration startTimeout)
      throws IOException, InterruptedException {
    return start(appJar, jvmArgs, serveArgs, log, startTimeout, freePort());
  }

  /** As above, on {@code port} (chosen beforehand: the agent's rules name it in a webhook URL). */
  public static ServiceProcess start(
      Path appJar,
      List<String> jvmArgs,
      List<String> serveArgs,
      Path log,
      Duration startTimeout,
      int port)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.addAll(jvmArgs);
    if (appJar != null) {
      cmd.add("-jar");
      cmd.add(appJar.toString());
    } else {
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Main.class.getName());
    }
    cmd.add("serve");
    cmd.add("--port");
    cmd.add(Integer.toString(port));
    cmd.addAll(serveArgs);
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ServiceProcess s = new ServiceProcess(p, port, log);
    long until = System.nanoTime() + startTimeout.toNanos();
    while (System.nanoTime() < until) {
      if (!p.isAlive()) {
        throw new IOException(
            "the service exited with "
                + p.exitValue()
                + " while starting:\n"
                + s.logTail(20)
                + "\ncommand: "
                + String.join(" ", cmd));
      }
      if (s.healthy()) return s;
      Thread.sleep(50);
    }
    s.close();
    throw new IOException(
        "the service did not answer /health within "
            + startTimeout.toSeconds()
            + "s:\n"
            + s.logTail(20));
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + port + "/");
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  public boolean healthy() {
    try {
      return get("/health").statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri().resolve(path)).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> post(String path, String json)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri().resolve(path))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Deploys a shipped emoji pack ({@code PUT /admin/emoji-pack?name=...}). */
  public Map<String, Object> deployPack(String name) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri().resolve("/admin/emoji-pack?name=" + name))
                .timeout(Duration.ofSeconds(10))
                .PUT(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200)
      throw new IOException(
          "deploying pack " + name + " failed: " + r.statusCode() + " " + r.body());
    return Json.parseObject(r.body());
  }

  public Map<String, Object> json(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = get(path);
    if (r.statusCode() != 200)
      throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
    return Json.parseObject(r.body());
  }

  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  public Path log() {
    return log;
  }

  @Override
  public void close() {
    stop(process, reaper, 5);
  }

  /**
   * Stops a child process: drops its shutdown-hook reaper, asks it to exit, and after {@code
   * graceSeconds} kills it.
   */
  public static void stop(Process process, Thread reaper, long graceSeconds) {
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs anyway
    }
    process.destroy();
    try {
      if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
