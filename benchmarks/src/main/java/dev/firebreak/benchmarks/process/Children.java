package dev.firebreak.benchmarks.process;

import dev.firebreak.benchmarks.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The child JVMs of a comparison: the service under test and the load generator, both started from
 * the sample app's jar with the harness's own {@code java}. Every child is registered so a harness
 * stopped half way (Ctrl-C) takes its children with it.
 */
final class Children {
  private Children() {}

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (Process p : LIVE) p.destroyForcibly();
                },
                "children-reaper"));
  }

  /** The {@code java} launcher of this JVM (children run on the same JDK). */
  static String java() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private static Process start(List<String> cmd, Path out, Path err) throws IOException {
    Files.createDirectories(out.toAbsolutePath().getParent());
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    LIVE.add(p);
    return p;
  }

  /**
   * SIGTERM, then after {@code grace} SIGKILL; returns the exit code (or -1 if it never exited).
   */
  static int stop(Process p, Duration grace) {
    try {
      p.destroy();
      if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        if (!p.waitFor(5, TimeUnit.SECONDS)) return -1;
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return -1;
    } finally {
      LIVE.remove(p);
    }
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e.getMessage() + ")";
    }
  }

  // ---------------------------------------------------------------- the service

  /**
   * {@code java -Xmx.. [-Xms..] [jvmArgs] -jar app.jar serve --port P}, stdout and stderr to files.
   */
  static final class Service {
    final Process process;
    final int port;
    final Path out;
    final Path err;
    final List<String> command;
    final long startedNanos;

    private Service(
        Process process, int port, Path out, Path err, List<String> command, long startedNanos) {
      this.process = process;
      this.port = port;
      this.out = out;
      this.err = err;
      this.command = command;
      this.startedNanos = startedNanos;
    }

    static Service start(List<String> heapFlags, List<String> jvmArgs, Path appJar, Path logBase)
        throws IOException {
      int port = Http.freePort();
      List<String> cmd = new ArrayList<>();
      cmd.add(java());
      cmd.addAll(heapFlags);
      cmd.addAll(jvmArgs);
      cmd.addAll(List.of("-jar", appJar.toString(), "serve", "--port", Integer.toString(port)));
      Path out = Path.of(logBase + ".out");
      Path err = Path.of(logBase + ".err");
      long t0 = System.nanoTime(); // the clock starts before the fork
      Process p = Children.start(cmd, out, err);
      return new Service(p, port, out, err, cmd, t0);
    }

    /**
     * Polls {@code GET /health} every 5 ms until it answers 200; returns the time from just before
     * the process was forked to that answer.
     */
    Duration awaitHealthy(Duration timeout) throws IOException, InterruptedException {
      long until = startedNanos + timeout.toNanos();
      while (System.nanoTime() < until) {
        if (!process.isAlive()) {
          throw new IOException(
              "the service exited with "
                  + process.exitValue()
                  + " while starting; "
                  + err
                  + ":\n"
                  + tail(err, 15)
                  + "\n"
                  + out
                  + ":\n"
                  + tail(out, 15));
        }
        try {
          if (Http.get(port, "/health", 5000).status() == 200)
            return Duration.ofNanos(System.nanoTime() - startedNanos);
        } catch (IOException notYet) {
          // not listening yet (or not answering yet)
        }
        Thread.sleep(5);
      }
      stop();
      throw new IOException(
          "the service did not answer /health within "
              + timeout.toSeconds()
              + " s; "
              + err
              + ":\n"
              + tail(err, 15));
    }

    /** {@code GET /debug/vm}: the JVM's own totals (allocated bytes, CPU, GCs, threads). */
    Map<String, Object> vm() throws IOException {
      Http.Response r = Http.get(port, "/debug/vm", 10_000);
      if (r.status() != 200) {
        throw new IOException(
            "GET /debug/vm answered "
                + r.status()
                + " (is the sample app jar older than this harness?)");
      }
      return Json.object(r.body());
    }

    /**
     * CPU time (user + system) of the process so far, in nanoseconds, as the kernel accounts it.
     */
    long cpuNanos() throws IOException {
      return ProcStat.cpuNanos(process);
    }

    int stop() {
      return Children.stop(process, Duration.ofSeconds(10));
    }
  }

  // ---------------------------------------------------------------- the load generator

  /**
   * The outcome of one {@code load ... --json} child: the measured phase, its warm-up (or null),
   * and the file with the measured phase's latency histogram (or null if none was asked for).
   */
  record LoadResult(
      Map<String, Object> summary,
      Map<String, Object> warmup,
      Path histogramLog,
      List<String> command) {}

  /**
   * Runs {@code java -jar app.jar load --target ... --rate R [--warmup W] --duration D --json} to
   * its end: with a warm-up, the same load-generator JVM sends unmeasured for {@code warmup} first,
   * so the measured phase starts with a warm client. With {@code histogram}, the child also writes
   * the measured phase's latency histogram ({@code --histogram-log}) to {@code logBase.hlog},
   * beside its {@code logBase.out} and {@code logBase.err}. {@code onSending} runs (in the calling
   * thread) when the measured phase starts (the child's {@code load: ...} line on stderr, or with a
   * warm-up its {@code load: measured phase starts} line); {@code onFinished} when it prints its
   * result, after its drain (every message delivered or past its deadline) and before its JVM
   * exits. Either may be null.
   */
  static LoadResult load(
      Path appJar,
      int port,
      double rate,
      Duration warmup,
      Duration duration,
      Path logBase,
      boolean histogram,
      Runnable onSending,
      Runnable onFinished)
      throws IOException, InterruptedException {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                java(),
                "-jar",
                appJar.toString(),
                "load",
                "--target",
                "http://127.0.0.1:" + port,
                "--rate",
                rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate),
                "--duration",
                duration.toMillis() + "ms",
                "--json"));
    if (!warmup.isZero()) cmd.addAll(List.of("--warmup", warmup.toMillis() + "ms"));
    Path hlog = histogram ? Path.of(logBase + ".hlog") : null;
    if (hlog != null) cmd.addAll(List.of("--histogram-log", hlog.toString()));
    String marker = warmup.isZero() ? "load: " : "load: measured phase starts";
    Path out = Path.of(logBase + ".out");
    Path err = Path.of(logBase + ".err");
    Files.createDirectories(out.toAbsolutePath().getParent());
    Process p = new ProcessBuilder(cmd).start();
    LIVE.add(p);
    CompletableFuture<Void> sending = new CompletableFuture<>();
    CompletableFuture<String> result = new CompletableFuture<>();
    CompletableFuture<String> warmupResult = new CompletableFuture<>();
    Thread errPump =
        pump(
            p.getErrorStream(),
            err,
            line -> {
              if (line.startsWith(marker)) sending.complete(null);
            },
            () -> sending.complete(null),
            "load-stderr");
    Thread outPump =
        pump(
            p.getInputStream(),
            out,
            line -> {
              if (line.startsWith("{")) result.complete(line);
              if (line.startsWith("warm-up {"))
                warmupResult.complete(line.substring("warm-up ".length()));
            },
            () -> result.complete(null),
            "load-stdout");
    try {
      try {
        sending.get(60 + warmup.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new IOException(
            "the load generator did not start its measured phase within "
                + (60 + warmup.toSeconds())
                + " s; "
                + err
                + ":\n"
                + tail(err, 15));
      }
      if (onSending != null) onSending.run();
      long waitMillis =
          duration.toMillis() + 60_000; // the run, then its drain (timeout + deadline + 1 s)
      String json;
      try {
        json = result.get(waitMillis, TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new IOException(
            "the load generator did not finish within " + waitMillis / 1000 + " s");
      }
      if (json != null && onFinished != null) onFinished.run();
      if (!p.waitFor(30, TimeUnit.SECONDS))
        throw new IOException("the load generator did not exit after its result");
      outPump.join(5000);
      errPump.join(5000);
      if (p.exitValue() != 0)
        throw new IOException(
            "the load generator exited with "
                + p.exitValue()
                + "; "
                + err
                + ":\n"
                + tail(err, 15)
                + (hlog != null && p.exitValue() == 2
                    ? "\n(a usage error: a sample app jar older than --histogram-log rejects it; rebuild sample-app)"
                    : ""));
      if (json == null) throw new IOException("no JSON line in the load generator's output " + out);
      if (hlog != null && !Files.isRegularFile(hlog))
        throw new IOException("the load generator wrote no histogram log " + hlog);
      String w = warmupResult.getNow(null);
      return new LoadResult(Json.object(json), w == null ? null : Json.object(w), hlog, cmd);
    } finally {
      if (p.isAlive()) stop(p, Duration.ofSeconds(2));
      LIVE.remove(p);
    }
  }

  /**
   * Copies a child's stream to a file line by line, handing each line to {@code onLine}; {@code
   * atEnd} at EOF.
   */
  private static Thread pump(
      InputStream in, Path file, Consumer<String> onLine, Runnable atEnd, String name) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                      new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                  Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                  w.write(line);
                  w.write('\n');
                  w.flush();
                  onLine.accept(line);
                }
              } catch (IOException e) {
                // the child went away; its exit code tells
              } finally {
                atEnd.run();
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  // ---------------------------------------------------------------- /proc

  /** Reads utime + stime from {@code /proc/PID/stat}; falls back to the JDK's view elsewhere. */
  static final class ProcStat {
    private ProcStat() {}

    private static volatile long ticksPerSecond;

    static long cpuNanos(Process p) throws IOException {
      Path stat = Path.of("/proc", Long.toString(p.pid()), "stat");
      if (Files.isReadable(stat)) {
        return cpuTicks(Files.readString(stat)) * (1_000_000_000L / ticksPerSecond());
      }
      return p.info()
          .totalCpuDuration()
          .map(Duration::toNanos)
          .orElseThrow(() -> new IOException("no CPU time for pid " + p.pid()));
    }

    /** utime + stime, in clock ticks, of a process's or a thread's {@code stat} line. */
    static long cpuTicks(String stat) {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last
      // ')'
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
    }

    /** The thread groups of {@link #cpuNanosByGroup}, in report order. */
    static final List<String> GROUPS = List.of("application", "jit", "gc", "agent");

    /**
     * The application group split by the sample service's thread names (each also counted in
     * "application"): its pipeline workers, its HTTP handler pool, the HTTP server's dispatcher,
     * and every other thread of the group.
     */
    static final List<String> APPLICATION_PARTS =
        List.of("app:workers", "app:http-handlers", "app:http-dispatcher", "app:other");

    /** The part of the application group a thread is in (see {@link #APPLICATION_PARTS}). */
    static String applicationPart(String comm) {
      if (comm.startsWith("worker-")) return "app:workers";
      if (comm.startsWith("http-")) return "app:http-handlers";
      if (comm.equals("HTTP-Dispatcher")) return "app:http-dispatcher";
      return "app:other";
    }

    /**
     * CPU time of the process's live threads ({@code /proc/PID/task/TID/stat}), summed by what the
     * thread is: the agents' own threads (by name), the JIT compilers, the GC and VM threads, and
     * everything else (the application and the JDK's threads working for it). Threads that have
     * exited are not counted. Empty where /proc is not readable.
     */
    static Map<String, Long> cpuNanosByGroup(Process p) throws IOException {
      Map<String, Long> out = new java.util.LinkedHashMap<>();
      Path tasks = Path.of("/proc", Long.toString(p.pid()), "task");
      if (!Files.isDirectory(tasks)) return out;
      for (String g : GROUPS) out.put(g, 0L);
      for (String g : APPLICATION_PARTS) out.put(g, 0L);
      long tick = 1_000_000_000L / ticksPerSecond();
      try (java.util.stream.Stream<Path> ts = Files.list(tasks)) {
        for (Path t : ts.toList()) {
          String s;
          try {
            s = Files.readString(t.resolve("stat"));
          } catch (IOException gone) {
            continue; // the thread ended meanwhile
          }
          String comm = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
          String group = group(comm);
          long nanos = cpuTicks(s) * tick;
          out.merge(group, nanos, Long::sum);
          if (group.equals("application")) out.merge(applicationPart(comm), nanos, Long::sum);
        }
      }
      return out;
    }

    /** The group of a thread by its name as /proc shows it (at most 15 characters). */
    static String group(String comm) {
      if (comm.startsWith("firebreak-")
          || comm.startsWith("elastic-apm")
          || comm.startsWith("otel")
          || comm.startsWith("BatchSpanProc")
          || comm.startsWith("PeriodicMetric")) return "agent";
      if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) return "jit";
      if (comm.startsWith("GC Thread")
          || comm.startsWith("G1 ")
          || comm.equals("VM Thread")
          || comm.startsWith("VM Periodic")) return "gc";
      return "application";
    }

    /** The kernel's clock ticks per second ({@code getconf CLK_TCK}; 100 on Linux in practice). */
    static long ticksPerSecond() {
      long t = ticksPerSecond;
      if (t > 0) return t;
      t = 100;
      try {
        Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
        String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) t = Long.parseLong(v);
      } catch (IOException | NumberFormatException e) {
        // keep 100
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ticksPerSecond = t;
      return t;
    }
  }
}
