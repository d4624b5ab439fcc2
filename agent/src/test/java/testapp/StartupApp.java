package testapp;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The test program of StartupIT: what it does first runs while the agent starts. {@code
 * first-line}: a runaway recursion in main's first line. {@code two-threads}: one thread loads a
 * watched class while another already waits for the instrumentation of another. {@code counted}:
 * calls of a target that has no rules. {@code long-start}: 1.5 s of class loading, then the
 * recursion. {@code early}: once the agent runs, a recursion in a class another agent loaded before
 * it. Then prints READY and waits for "quit" on stdin.
 */
public final class StartupApp {
  private StartupApp() {}

  /** The classes that loaded with the pending entry, once the agent runs ("none" without it). */
  private static String pendingClasses() throws InterruptedException {
    for (int i = 0; i < 1000; i++) {
      String status = System.getProperty("firebreak.status");
      if (status == null) {
        return "none";
      }
      if (status.startsWith("running")) {
        return System.getProperty("firebreak.timing.pending.classes");
      }
      Thread.sleep(10);
    }
    return "timeout";
  }

  /** How the agent's start went: PENDING n, then TIMING with four of its timing keys. */
  private static void printStart() throws InterruptedException {
    System.out.println("PENDING " + pendingClasses());
    StringBuilder t = new StringBuilder("TIMING");
    for (String key : new String[] {"parse.ms", "yield.ms", "ready.ms", "pending.waits"}) {
      t.append(' ').append(key).append('=').append(System.getProperty("firebreak.timing." + key));
    }
    System.out.println(t);
  }

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "first-line":
        System.out.println("RESULT " + First.down(0));
        printStart();
        break;
      case "two-threads":
        twoThreads();
        break;
      case "long-start":
        // a start that loads the watched class at once, then keeps loading classes for 1.5 s
        // before its first watched call
        System.out.println("LOADED " + First.class.getName());
        long until = System.nanoTime() + 1_500_000_000L;
        int defined = 0;
        byte[] tiny = tinyClass();
        while (System.nanoTime() < until) {
          new OneClass(tiny).load();
          defined++;
          Thread.sleep(2);
        }
        System.out.println("RESULT " + First.down(0) + " after " + defined + " classes");
        printStart();
        break;
      case "early":
        // Early loaded before the agent's premain (testapp.EarlyAgent, another -javaagent ahead
        // of it): once the agent runs, its catch-up has instrumented it
        System.out.println("PENDING " + pendingClasses());
        System.out.println("RESULT " + Early.down(0));
        break;
      case "counted":
        int sum = 0;
        for (int i = 0; i < 5; i++) {
          sum += Counted.tick(i);
        }
        System.out.println("RESULT " + sum);
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
    System.out.println("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.equals("quit")) {
        return;
      }
    }
  }

  /**
   * The left thread loads Left (a rule names it) and is held at the agent's class gate; only then
   * does the right thread load Right. Both must come out watched, neither stuck.
   */
  private static void twoThreads() throws Exception {
    int[] results = new int[2];
    Thread left = new Thread(() -> results[0] = Left.down(0), "left");
    Thread right = new Thread(() -> results[1] = Right.down(0), "right");
    left.start();
    Thread.State seen = left.getState();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (seen == Thread.State.RUNNABLE || seen == Thread.State.NEW) {
      if (System.nanoTime() > deadline) {
        break;
      }
      Thread.onSpinWait();
      seen = left.getState();
    }
    System.out.println("LEFT-STATE " + seen);
    right.start();
    left.join();
    right.join();
    System.out.println("LEFT " + results[0]);
    System.out.println("RIGHT " + results[1]);
  }

  /** A class of no interest to anyone, defined anew by each {@link OneClass}. */
  public static final class Tiny {}

  private static byte[] tinyClass() throws java.io.IOException {
    try (java.io.InputStream in = StartupApp.class.getResourceAsStream("StartupApp$Tiny.class")) {
      return in.readAllBytes();
    }
  }

  /** A class loader of one class: each instance makes the JVM load one class more. */
  private static final class OneClass extends ClassLoader {
    private final byte[] bytes;

    OneClass(byte[] bytes) {
      super(null);
      this.bytes = bytes;
    }

    Class<?> load() {
      return defineClass("testapp.StartupApp$Tiny", bytes, 0, bytes.length);
    }
  }

  /**
   * Recurses without end, as First does; loaded by testapp.EarlyAgent's premain, before the
   * agent's.
   */
  static final class Early {
    private Early() {}

    static int down(int n) {
      return 1 + down(n + 1);
    }
  }

  /** Recurses without end: only a depth rule's limit stops it before the stack overflows. */
  static final class First {
    private First() {}

    static int down(int n) {
      return 1 + down(n + 1);
    }
  }

  static final class Left {
    private Left() {}

    static int down(int n) {
      return 1 + down(n + 1);
    }
  }

  static final class Right {
    private Right() {}

    static int down(int n) {
      return 1 + down(n + 1);
    }
  }

  /** A target without rules: watched for its metrics only. */
  static final class Counted {
    private Counted() {}

    static int tick(int i) {
      return i;
    }
  }
}
