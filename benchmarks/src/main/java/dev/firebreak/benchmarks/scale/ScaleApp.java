package dev.firebreak.benchmarks.scale;

import bench.firebreak.targets.Scale;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * The child JVM of {@link ScaleHarness}: one workload, timed, then the heap after GC and (with the
 * agent) the agent's count of the watched calls from /metrics.
 *
 * <p>usage: {@code ScaleApp virtual|churn THREADS [METRICS_PORT]}. {@code virtual}: a virtual
 * thread per task, each one watched call recursing 3 deep (4 calls); {@code churn}: platform
 * threads, 4 at a time, each 10 watched calls (no recursion).
 */
public final class ScaleApp {
  private static final LongAdder CALLS = new LongAdder();

  /**
   * Where {@code churn-alloc}'s threads put what they allocate, so that it is not optimised away.
   */
  static volatile Object SINK;

  private ScaleApp() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    int threads = Integer.parseInt(args[1]);
    int port = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while ("starting".equals(System.getProperty("firebreak.status"))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    run(mode, Math.min(threads, 10_000)); // warm-up: the JIT, the agent's first registrations
    long before = heapAfterGc();
    long cpuStart = processCpuNanos();
    Map<String, Long> byKindStart = cpuByKind();
    long start = System.nanoTime();
    run(mode, threads);
    long elapsed = System.nanoTime() - start;
    long cpu = processCpuNanos() - cpuStart;
    Map<String, Long> byKind = cpuByKind();
    Thread.sleep(1500); // the same for both sides: the agent's evaluator runs at least once
    long after = heapAfterGc();
    System.out.println("ELAPSED_NS " + elapsed);
    System.out.println("CPU_NS " + cpu);
    for (Map.Entry<String, Long> e : byKind.entrySet()) {
      System.out.println(
          "CPU_" + e.getKey() + "_NS " + (e.getValue() - byKindStart.getOrDefault(e.getKey(), 0L)));
    }
    System.out.println("HEAP_BEFORE " + before);
    System.out.println("HEAP_AFTER " + after);
    System.out.println("CALLS " + CALLS.sum()); // the warm-up's too, as the agent counts them
    if (port > 0) {
      System.out.println("AGENT_CALLS " + agentCalls(port));
    }
  }

  private static void run(String mode, int threads) throws Exception {
    if (mode.equals("virtual")) {
      ExecutorService ex =
          (ExecutorService)
              java.util.concurrent.Executors.class
                  .getMethod("newVirtualThreadPerTaskExecutor")
                  .invoke(null);
      for (int i = 0; i < threads; i++) {
        ex.execute(
            () -> {
              Scale.work(3);
              CALLS.add(4);
            });
      }
      ex.shutdown();
      if (!ex.awaitTermination(10, TimeUnit.MINUTES)) {
        throw new IllegalStateException("virtual threads did not finish");
      }
    } else if (mode.equals("churn") || mode.equals("churn-alloc")) {
      boolean alloc = mode.equals("churn-alloc");
      for (int i = 0; i < threads; i += 4) {
        List<Thread> batch = new ArrayList<>(4);
        for (int j = 0; j < 4 && i + j < threads; j++) {
          Thread t =
              new Thread(
                  () -> {
                    if (alloc) {
                      // as a thread of a real service does (a buffer, a string): its first
                      // allocation takes a TLAB with or without the agent
                      SINK = new byte[64];
                    }
                    for (int k = 0; k < 10; k++) {
                      Scale.work(0);
                    }
                    CALLS.add(10);
                  });
          t.start();
          batch.add(t);
        }
        for (Thread t : batch) {
          t.join();
        }
      }
    } else {
      throw new IllegalArgumentException("mode: virtual, churn or churn-alloc, not " + mode);
    }
  }

  /**
   * CPU time of the whole process (every thread: the application's, the carriers', GC, JIT and the
   * agent's), or -1 where the JVM does not tell: steadier than elapsed time on a shared machine.
   */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /**
   * CPU time by kind of thread, from /proc (Linux; empty elsewhere): {@code CARRIERS} (the virtual
   * threads' scheduler), {@code MAIN} (which starts them), {@code GC}, {@code REFINE} (G1's
   * refinement threads), {@code JIT}, {@code AGENT} (firebreak's threads), {@code OTHER}. Threads
   * that died meanwhile are not counted: for the kinds above, none do during a run.
   */
  static Map<String, Long> cpuByKind() {
    Map<String, Long> out = new TreeMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    long nanosPerTick = 10_000_000L; // USER_HZ is 100 on every Linux the harness runs on
    try (Stream<Path> ts = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) ts::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          int close = stat.lastIndexOf(')');
          String name = stat.substring(stat.indexOf('(') + 1, close);
          String[] f = stat.substring(close + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          out.merge(kind(name), ticks * nanosPerTick, Long::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  private static String kind(String name) {
    if (name.startsWith("ForkJoinPool")) {
      return "CARRIERS";
    }
    if (name.equals("java") || name.equals("main")) {
      return "MAIN";
    }
    if (name.startsWith("G1 Refine")) {
      return "REFINE"; // G1's concurrent refinement: cards dirtied by reference stores into old
      // objects
    }
    if (name.startsWith("GC ") || name.startsWith("G1 ")) {
      return "GC";
    }
    if (name.startsWith("C1 ") || name.startsWith("C2 ")) {
      return "JIT";
    }
    if (name.startsWith("firebreak")) {
      return "AGENT";
    }
    return "OTHER";
  }

  static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** firebreak_calls_total of target scale, summed over its methods. */
  private static long agentCalls(int port) throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    long total = 0;
    for (String line : body.split("\n")) {
      if (line.startsWith("firebreak_calls_total{") && line.contains("target=\"scale\"")) {
        total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }
}
