package dev.firebreak.it;

import static org.awaitility.Awaitility.await;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A child JVM running {@code testapp.App} with {@code -javaagent:} on the built agent jar: its
 * stdout and stderr go to files the test reads, its stdin takes commands.
 */
final class ChildJvm implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String TEMURIN_25 = "/usr/lib/jvm/temurin-25-jdk-amd64";
  private static Path appClassPath;
  private static Path pluginDir;

  private final Process process;
  private final Path out;
  private final Path err;
  private final BufferedWriter stdin;
  private final HttpClient http = HttpClient.newHttpClient();

  private ChildJvm(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
    this.stdin =
        new BufferedWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
  }

  /** The JDKs the child runs on: this one, and Temurin 25 when installed (CI has it). */
  static Stream<String> javas() {
    List<String> out = new ArrayList<>();
    out.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path t25 = Path.of(TEMURIN_25, "bin", "java");
    if (Files.isExecutable(t25)) {
      out.add(t25.toString());
    } else if (System.getenv("CI") != null) {
      throw new IllegalStateException("CI must have Temurin 25 at " + TEMURIN_25);
    } else {
      System.out.println(
          "[firebreak-it] Temurin 25 not found at "
              + TEMURIN_25
              + ": child JVMs run on JDK 17 only");
    }
    return out.stream();
  }

  static Path agentJar() {
    Path jar = Path.of(System.getProperty("firebreak.agent.jar", "target/firebreak-agent.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("agent jar not built: " + jar);
    }
    return jar.toAbsolutePath();
  }

  static Path testClasses() {
    return Path.of(System.getProperty("firebreak.test.classes", "target/test-classes"))
        .toAbsolutePath();
  }

  /**
   * The app's class path holds only {@code testapp/*.class}; the plugin package lives in a separate
   * directory that only the app's own URLClassLoaders see.
   */
  static synchronized Path appClassPath() throws IOException {
    if (appClassPath == null) {
      Path cp = Files.createTempDirectory("firebreak-app-cp");
      Path plugin = Files.createTempDirectory("firebreak-plugin");
      Path src = testClasses().resolve("testapp");
      Files.createDirectories(cp.resolve("testapp"));
      Files.createDirectories(plugin.resolve("testapp/plugin"));
      try (Stream<Path> files = Files.list(src)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (f.toString().endsWith(".class")) {
            Files.copy(f, cp.resolve("testapp").resolve(f.getFileName()));
          }
        }
      }
      try (Stream<Path> files = Files.list(src.resolve("plugin"))) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, plugin.resolve("testapp/plugin").resolve(f.getFileName()));
        }
      }
      appClassPath = cp;
      pluginDir = plugin;
    }
    return appClassPath;
  }

  static synchronized Path pluginDir() throws IOException {
    appClassPath();
    return pluginDir;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts {@code java [-javaagent:JAR=agentArgs] -cp APP testapp.App appArgs...}. */
  static ChildJvm start(String java, String agentArgs, String... appArgs) throws IOException {
    return start(java, agentArgs, Map.of(), appArgs);
  }

  static ChildJvm start(String java, String agentArgs, Map<String, String> env, String... appArgs)
      throws IOException {
    return start(java, List.of(), agentArgs, env, appArgs);
  }

  static ChildJvm start(
      String java,
      List<String> jvmArgs,
      String agentArgs,
      Map<String, String> env,
      String... appArgs)
      throws IOException {
    return launch(java, jvmArgs, agentArgs, env, "testapp.App", List.of(), appArgs);
  }

  /** Another test program's main class, e.g. {@code testapp.AlertApp}. */
  static ChildJvm startMain(String java, String mainClass, String agentArgs, String... appArgs)
      throws IOException {
    return launch(java, List.of(), agentArgs, Map.of(), mainClass, List.of(), appArgs);
  }

  /** Another test program, with more on its class path (e.g. Jackson's jars). */
  static ChildJvm startMain(
      String java,
      List<String> jvmArgs,
      String mainClass,
      String agentArgs,
      List<Path> classPath,
      String... appArgs)
      throws IOException {
    return launch(java, jvmArgs, agentArgs, Map.of(), mainClass, classPath, appArgs);
  }

  private static ChildJvm launch(
      String java,
      List<String> jvmArgs,
      String agentArgs,
      Map<String, String> env,
      String mainClass,
      List<Path> classPath,
      String... appArgs)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xss512k");
    cmd.addAll(jvmArgs);
    if (agentArgs != null) {
      cmd.add("-javaagent:" + agentJar() + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
    }
    StringBuilder cp = new StringBuilder(appClassPath().toString());
    for (Path p : classPath) {
      cp.append(File.pathSeparatorChar).append(p.toAbsolutePath());
    }
    cmd.add("-cp");
    cmd.add(cp.toString());
    cmd.add(mainClass);
    cmd.addAll(List.of(appArgs));
    Path dir = Files.createTempDirectory("firebreak-child");
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().remove("FIREBREAK_RULES");
    pb.environment().putAll(env);
    return new ChildJvm(pb.start(), out, err);
  }

  String stdout() {
    return read(out);
  }

  String stderr() {
    return read(err);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  void send(String line) throws IOException {
    stdin.write(line);
    stdin.newLine();
    stdin.flush();
  }

  /** Waits until stdout has a line starting with {@code prefix}; fails with both outputs. */
  ChildJvm awaitLine(String prefix) {
    try {
      await()
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> stdout().lines().anyMatch(l -> l.startsWith(prefix)) || !process.isAlive());
    } catch (RuntimeException e) {
      throw new AssertionError("no line '" + prefix + "' in time\n" + describe(), e);
    }
    if (stdout().lines().noneMatch(l -> l.startsWith(prefix))) {
      throw new AssertionError("child exited without line '" + prefix + "'\n" + describe());
    }
    return this;
  }

  String describe() {
    return "--- stdout ---\n" + stdout() + "\n--- stderr ---\n" + stderr();
  }

  /** How many stdout lines are exactly {@code line}. */
  int count(String line) {
    return (int) stdout().lines().filter(l -> l.equals(line)).count();
  }

  /**
   * Sends {@code once} (one runaway call of testapp.Emoji) and waits for its outcome: "fallback"
   * when Firebreak short-circuited it, "overflow" when it ran away.
   */
  String once() throws IOException {
    int results = count("RESULT hi :a:");
    int overflows = count("OVERFLOW");
    send("once");
    await()
        .atMost(TIMEOUT)
        .until(() -> count("RESULT hi :a:") > results || count("OVERFLOW") > overflows);
    return count("RESULT hi :a:") > results ? "fallback" : "overflow";
  }

  /** The last line starting with {@code prefix}, without the prefix. */
  String lineAfter(String prefix) {
    String found = null;
    for (String l : stdout().lines().toList()) {
      if (l.startsWith(prefix)) {
        found = l.substring(prefix.length());
      }
    }
    return found;
  }

  /**
   * One admin request to the agent's HTTP server on {@code port}: {@code token} goes in an {@code
   * Authorization: Bearer} header, none when null.
   */
  static HttpResponse<String> admin(int port, String method, String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.method(method, HttpRequest.BodyPublishers.noBody());
    try {
      return ADMIN_HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static final HttpClient ADMIN_HTTP = HttpClient.newHttpClient();

  /**
   * GET /metrics. The agent starts its HTTP server on its own thread after premain, so the first
   * scrape may come a moment early: connection failures are retried for a few seconds.
   */
  String metrics(int port) {
    String[] body = new String[1];
    Exception[] last = new Exception[1];
    try {
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                try {
                  HttpResponse<String> r =
                      http.send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + port + "/metrics"))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          HttpResponse.BodyHandlers.ofString());
                  body[0] = r.body();
                  return true;
                } catch (java.net.ConnectException e) {
                  last[0] = e;
                  return false;
                }
              });
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot scrape :" + port + ": " + last[0] + "\n" + describe(), e);
    }
    return body[0];
  }

  /** The value of one sample whose labels include all of {@code labels}; NaN when absent. */
  static double sample(String metrics, String name, Map<String, String> labels) {
    Pattern line =
        Pattern.compile("^" + Pattern.quote(name) + "(\\{(.*)\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(metrics);
    while (m.find()) {
      String l = m.group(2) == null ? "" : m.group(2);
      boolean all = true;
      for (Map.Entry<String, String> e : labels.entrySet()) {
        if (!l.contains(e.getKey() + "=\"" + e.getValue() + "\"")) {
          all = false;
          break;
        }
      }
      if (all) {
        return Double.parseDouble(m.group(3));
      }
    }
    return Double.NaN;
  }

  double sample(int port, String name, Map<String, String> labels) {
    return sample(metrics(port), name, labels);
  }

  int exitCode() throws InterruptedException {
    if (!process.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
      throw new AssertionError("child did not exit\n" + describe());
    }
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  @Override
  public void close() throws Exception {
    try {
      if (process.isAlive()) {
        send("quit");
      }
    } catch (IOException ignored) {
      // already gone
    }
    // the app's main returns after "quit": the agent's threads must not keep the JVM alive
    if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the child JVM did not exit after its main returned\n" + describe());
    }
  }

  /** The top of a test rules file: metrics on {@code port}, alerts to {@code log}, no reload. */
  static String rulesHeader(int port, String log, String extraAlerts) {
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: "
        + log
        + extraAlerts
        + "}\n"
        + "reload: {watch: false}\n";
  }

  /** {@code labels("target", "emoji", "reason", "open")}: label pairs for {@link #sample}. */
  static Map<String, String> labels(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static Path writeRules(String yaml) throws IOException {
    Path f = Files.createTempFile("firebreak-rules", ".yaml");
    Files.writeString(f, yaml, StandardCharsets.UTF_8);
    return f;
  }
}
