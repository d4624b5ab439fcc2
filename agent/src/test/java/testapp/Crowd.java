package testapp;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Many threads, each calling the watched {@link Crowd#call} (ScaleIT): {@code virtual N} runs a
 * virtual thread per task (JDK 21+), each one call recursing 3 deep (4 calls); {@code held N} does
 * the same, but every thread waits at the bottom of its call until all are inside, prints "HELD"
 * and lets them go on the line "release"; {@code churn N} starts platform threads 4 at a time, each
 * making 10 calls. Prints the calls made and the heap after GC before and after, then "READY", and
 * waits for "quit".
 */
public final class Crowd {
  static final LongAdder CALLS = new LongAdder();

  /** Mode {@code held}: where every call at the bottom waits (null: nobody waits). */
  static volatile CountDownLatch gate;

  static final BufferedReader IN =
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

  private Crowd() {}

  public static int call(int depth) {
    CALLS.increment();
    if (depth > 0) {
      return call(depth - 1) + 1;
    }
    CountDownLatch g = gate;
    if (g != null) {
      try {
        g.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return leaf(depth);
  }

  /** No invoke, no loop: a broad target (method: '*') leaves it out by default. */
  static int leaf(int x) {
    return x * 31 + 1;
  }

  public static void main(String[] args) throws Exception {
    AgentReady.await();
    String mode = args[0];
    int n = Integer.parseInt(args[1]);
    run(mode.equals("held") ? "virtual" : mode, Math.min(n, 2000)); // warm-up
    long before = heapAfterGc();
    if (mode.equals("held")) {
      gate = new CountDownLatch(1);
    }
    run(mode, n);
    Thread.sleep(1500); // the agent's evaluator releases dead threads' state within a round
    long after = heapAfterGc();
    System.out.println("CALLS " + CALLS.sum());
    System.out.println("HEAP_BEFORE " + before);
    System.out.println("HEAP_AFTER " + after);
    System.out.println("READY");
    String line;
    while ((line = IN.readLine()) != null && !line.equals("quit")) {
      // wait
    }
  }

  private static void run(String mode, int n) throws Exception {
    if (mode.equals("virtual") || mode.equals("held")) {
      long inside = CALLS.sum() + 4L * n;
      // by reflection: the test classes are compiled for Java 17
      ExecutorService ex =
          (ExecutorService)
              java.util.concurrent.Executors.class
                  .getMethod("newVirtualThreadPerTaskExecutor")
                  .invoke(null);
      for (int i = 0; i < n; i++) {
        ex.execute(() -> call(3));
      }
      CountDownLatch g = gate;
      if (g != null) {
        while (CALLS.sum() < inside) {
          Thread.sleep(10);
        }
        System.out.println("HELD");
        String line;
        while ((line = IN.readLine()) != null && !line.equals("release")) {
          // wait
        }
        g.countDown();
      }
      ex.shutdown();
      if (!ex.awaitTermination(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("virtual threads did not finish");
      }
      return;
    }
    for (int i = 0; i < n; i += 4) {
      List<Thread> batch = new ArrayList<>(4);
      for (int j = 0; j < 4 && i + j < n; j++) {
        Thread t =
            new Thread(
                () -> {
                  for (int k = 0; k < 10; k++) {
                    call(0);
                  }
                });
        t.start();
        batch.add(t);
      }
      for (Thread t : batch) {
        t.join();
      }
    }
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
