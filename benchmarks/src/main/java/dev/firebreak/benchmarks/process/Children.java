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
 * The child JVMs of a comparison: the service under test and the load generator, both started
 * from the sample app's jar with the harness's own {@code java}. Every child is registered so a
 * harness stopped half way (Ctrl-C) takes its children with it.
 */
final class Children {
    private Children() {}

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Process p : LIVE) p.destroyForcibly();
        }, "children-reaper"));
    }

    /** The {@code java} launcher of this JVM (children run on the same JDK). */
    static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static Process start(List<String> cmd, Path out, Path err) throws IOException {
        Files.createDirectories(out.toAbsolutePath().getParent());
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        LIVE.add(p);
        return p;
    }

    /** SIGTERM, then after {@code grace} SIGKILL; returns the exit code (or -1 if it never exited). */
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

    /** {@code java -Xmx.. [jvmArgs] -jar app.jar serve --port P}, stdout and stderr to files. */
    static final class Service {
        final Process process;
        final int port;
        final Path out;
        final Path err;
        final List<String> command;
        final long startedNanos;

        private Service(Process process, int port, Path out, Path err, List<String> command, long startedNanos) {
            this.process = process;
            this.port = port;
            this.out = out;
            this.err = err;
            this.command = command;
            this.startedNanos = startedNanos;
        }

        static Service start(String heap, List<String> jvmArgs, Path appJar, Path logBase) throws IOException {
            int port = Http.freePort();
            List<String> cmd = new ArrayList<>();
            cmd.add(java());
            cmd.add("-Xmx" + heap);
            cmd.addAll(jvmArgs);
            cmd.addAll(List.of("-jar", appJar.toString(), "serve", "--port", Integer.toString(port)));
            Path out = Path.of(logBase + ".out");
            Path err = Path.of(logBase + ".err");
            long t0 = System.nanoTime(); // the clock starts before the fork
            Process p = Children.start(cmd, out, err);
            return new Service(p, port, out, err, cmd, t0);
        }

        /**
         * Polls {@code GET /health} every 5 ms until it answers 200; returns the time from just
         * before the process was forked to that answer.
         */
        Duration awaitHealthy(Duration timeout) throws IOException, InterruptedException {
            long until = startedNanos + timeout.toNanos();
            while (System.nanoTime() < until) {
                if (!process.isAlive()) {
                    throw new IOException("the service exited with " + process.exitValue() + " while starting; "
                            + err + ":\n" + tail(err, 15) + "\n" + out + ":\n" + tail(out, 15));
                }
                try {
                    if (Http.get(port, "/health", 5000).status() == 200) return Duration.ofNanos(System.nanoTime() - startedNanos);
                } catch (IOException notYet) {
                    // not listening yet (or not answering yet)
                }
                Thread.sleep(5);
            }
            stop();
            throw new IOException("the service did not answer /health within " + timeout.toSeconds() + " s; " + err + ":\n" + tail(err, 15));
        }

        /** {@code GET /debug/vm}: the JVM's own totals (allocated bytes, CPU, GCs, threads). */
        Map<String, Object> vm() throws IOException {
            Http.Response r = Http.get(port, "/debug/vm", 10_000);
            if (r.status() != 200) {
                throw new IOException("GET /debug/vm answered " + r.status() + " (is the sample app jar older than this harness?)");
            }
            return Json.object(r.body());
        }

        /** CPU time (user + system) of the process so far, in nanoseconds, as the kernel accounts it. */
        long cpuNanos() throws IOException {
            return ProcStat.cpuNanos(process);
        }

        int stop() {
            return Children.stop(process, Duration.ofSeconds(10));
        }
    }

    // ---------------------------------------------------------------- the load generator

    /** The outcome of one {@code load ... --json} child. */
    record LoadResult(Map<String, Object> summary, List<String> command) {}

    /**
     * Runs {@code java -jar app.jar load --target ... --rate R --duration D --json} to its end.
     * {@code onSending} runs (in the calling thread) when the child prints its {@code load: ...}
     * line on stderr, right before it starts sending; {@code onFinished} when it prints its
     * result, after its drain (every message delivered or past its deadline) and before its JVM
     * exits. Either may be null.
     */
    static LoadResult load(Path appJar, int port, double rate, Duration duration, Path logBase, Runnable onSending,
                           Runnable onFinished) throws IOException, InterruptedException {
        List<String> cmd = List.of(java(), "-jar", appJar.toString(), "load", "--target", "http://127.0.0.1:" + port,
                "--rate", rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate),
                "--duration", duration.toMillis() + "ms", "--json");
        Path out = Path.of(logBase + ".out");
        Path err = Path.of(logBase + ".err");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Process p = new ProcessBuilder(cmd).start();
        LIVE.add(p);
        CompletableFuture<Void> sending = new CompletableFuture<>();
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread errPump = pump(p.getErrorStream(), err, line -> {
            if (line.startsWith("load: ")) sending.complete(null);
        }, () -> sending.complete(null), "load-stderr");
        Thread outPump = pump(p.getInputStream(), out, line -> {
            if (line.startsWith("{")) result.complete(line);
        }, () -> result.complete(null), "load-stdout");
        try {
            try {
                sending.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("the load generator did not start sending within 60 s; " + err + ":\n" + tail(err, 15));
            }
            if (onSending != null) onSending.run();
            long waitMillis = duration.toMillis() + 60_000; // the run, then its drain (timeout + deadline + 1 s)
            String json;
            try {
                json = result.get(waitMillis, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("the load generator did not finish within " + waitMillis / 1000 + " s");
            }
            if (json != null && onFinished != null) onFinished.run();
            if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IOException("the load generator did not exit after its result");
            outPump.join(5000);
            errPump.join(5000);
            if (p.exitValue() != 0) throw new IOException("the load generator exited with " + p.exitValue() + "; " + err + ":\n" + tail(err, 15));
            if (json == null) throw new IOException("no JSON line in the load generator's output " + out);
            return new LoadResult(Json.object(json), cmd);
        } finally {
            if (p.isAlive()) stop(p, Duration.ofSeconds(2));
            LIVE.remove(p);
        }
    }

    /** Copies a child's stream to a file line by line, handing each line to {@code onLine}; {@code atEnd} at EOF. */
    private static Thread pump(InputStream in, Path file, Consumer<String> onLine, Runnable atEnd, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
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
        }, name);
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
                String s = Files.readString(stat);
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
                String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
                long utime = Long.parseLong(f[11]); // field 14 of proc(5)
                long stime = Long.parseLong(f[12]); // field 15
                return (utime + stime) * (1_000_000_000L / ticksPerSecond());
            }
            return p.info().totalCpuDuration().map(Duration::toNanos)
                    .orElseThrow(() -> new IOException("no CPU time for pid " + p.pid()));
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
