package testapp;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * The program the integration tests run under the agent. Prints what happened, then "READY" and
 * waits for "quit" (or the end of stdin) so the test can read /metrics; "bad"/"good" switch the
 * emoji renderer between runaway and normal while the "loop" command keeps calling it.
 */
public final class App {
  public static final LongAdder CALLS = new LongAdder();
  public static volatile boolean bad = true;

  public static void main(String[] args) throws Exception {
    AgentReady.await();
    String cmd = args.length > 0 ? args[0] : "recurse";
    Thread loop = null;
    switch (cmd) {
      case "recurse":
        recurse(Integer.parseInt(args.length > 1 ? args[1] : "1"));
        break;
      case "mutual":
        try {
          CALLS.increment();
          System.out.println("RESULT " + new Ping().ping(0));
        } catch (StackOverflowError e) {
          System.out.println("OVERFLOW");
        }
        break;
      case "fallbacks":
        fallbacks();
        break;
      case "loaders":
        loaders(new File(args[1]));
        break;
      case "threads":
        threads(Integer.parseInt(args[1]));
        break;
      case "loop":
        loop = new Thread(App::loop, "worker-1");
        loop.setDaemon(true);
        loop.start();
        break;
      case "early":
        // before the agent is ready (startup=lazy): load and call the renderer unwatched,
        // then wait for the agent and run away: the renderer must have been retransformed
        System.out.println("STATUS " + System.getProperty("firebreak.status"));
        bad = false;
        CALLS.increment();
        System.out.println("EARLY " + new Emoji().expand("hi :a:", 0));
        long early = CALLS.sum();
        AgentReady.awaitAlways();
        System.out.println("EARLY-CALLS " + early);
        System.out.println(
            "TIMING "
                + System.getProperty("firebreak.timing.premain.ms")
                + " "
                + System.getProperty("firebreak.timing.ready.ms"));
        bad = true;
        recurse(1);
        break;
      case "idle":
        // nothing a rule matches is loaded yet: has the agent loaded Byte Buddy?
        System.out.println(
            "INSTRUMENTED " + System.getProperty("firebreak.timing.instrumented.ms"));
        break;
      case "plain":
        System.out.println("RESULT plain");
        break;
      default:
        throw new IllegalArgumentException(cmd);
    }
    System.out.println("CALLS " + CALLS.sum());
    System.out.println("READY");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.equals("quit")) {
        break;
      } else if (line.equals("bad")) {
        bad = true;
        System.out.println("OK bad");
      } else if (line.equals("good")) {
        bad = false;
        System.out.println("OK good");
      } else if (line.equals("once")) {
        bad = true;
        recurse(1);
      } else if (line.equals("timing")) {
        System.out.println(
            "INSTRUMENTED " + System.getProperty("firebreak.timing.instrumented.ms"));
      } else if (line.equals("calls")) {
        System.out.println("CALLS " + CALLS.sum());
      } else if (line.equals("evaluator-alloc")) {
        System.out.println("EVALUATOR-ALLOC " + evaluatorAllocation());
      }
      System.out.flush();
    }
    System.out.println("BYE");
  }

  /**
   * Bytes the agent's evaluator thread allocates in each of four one-second windows while this
   * application does nothing (it only sleeps here).
   */
  private static String evaluatorAllocation() throws InterruptedException {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Thread evaluator = null;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("firebreak-evaluator")) {
        evaluator = t;
      }
    }
    if (evaluator == null) {
      return "no evaluator thread";
    }
    StringBuilder out = new StringBuilder();
    long before = mx.getThreadAllocatedBytes(evaluator.getId());
    for (int i = 0; i < 4; i++) {
      Thread.sleep(1000);
      long now = mx.getThreadAllocatedBytes(evaluator.getId());
      out.append(i == 0 ? "" : " ").append(now - before);
      before = now;
    }
    return out.toString();
  }

  private static void recurse(int times) {
    for (int i = 0; i < times; i++) {
      try {
        CALLS.increment();
        System.out.println("RESULT " + new Emoji().expand("hi :a:", 0));
      } catch (StackOverflowError e) {
        System.out.println("OVERFLOW");
      } catch (RuntimeException e) {
        System.out.println("THROWN " + e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }
  }

  private static void fallbacks() {
    Fallbacks f = new Fallbacks();
    System.out.println("text=" + f.text("same"));
    System.out.println("boxed=" + f.boxed(7));
    System.out.println("number=" + f.number(5));
    System.out.println("flag=" + f.flag(true));
    System.out.println("object=" + f.object("x"));
    try {
      System.out.println("thrower=" + f.thrower("x"));
    } catch (RuntimeException e) {
      System.out.println("thrower threw " + e.getClass().getName() + ": " + e.getMessage());
    }
  }

  private static void loaders(File pluginDir) throws Exception {
    URL[] urls = {pluginDir.toURI().toURL()};
    try (URLClassLoader child = new URLClassLoader(urls, App.class.getClassLoader());
        URLClassLoader isolated = new URLClassLoader(urls, null)) {
      for (ClassLoader cl : new ClassLoader[] {child, isolated}) {
        Class<?> c = cl.loadClass("testapp.plugin.Plugin");
        Object p = c.getConstructor().newInstance();
        Method recurse = c.getMethod("recurse", String.class);
        String where = (String) c.getMethod("loader").invoke(p);
        try {
          System.out.println("LOADER " + where + " RESULT " + recurse.invoke(p, "plugin"));
        } catch (java.lang.reflect.InvocationTargetException e) {
          System.out.println("LOADER " + where + " FAILED " + e.getCause());
        }
      }
    }
  }

  private static void threads(int n) throws InterruptedException {
    Thread[] ts = new Thread[n];
    String[] results = new String[n];
    for (int i = 0; i < n; i++) {
      final int k = i;
      ts[i] =
          new Thread(
              () -> {
                try {
                  for (int r = 0; r < 20; r++) {
                    CALLS.increment();
                    results[k] = new Emoji().expand("t" + k, 0);
                  }
                } catch (Throwable e) {
                  results[k] = "FAILED " + e;
                }
              },
              "recurser-" + i);
      ts[i].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    for (int i = 0; i < n; i++) {
      System.out.println("THREAD " + i + " " + results[i]);
    }
  }

  private static void loop() {
    Emoji e = new Emoji();
    long i = 0;
    while (true) {
      try {
        CALLS.increment();
        e.expand("m" + (i++) + " :a:", 0);
      } catch (Throwable t) {
        // the runaway call: the loop goes on, as a worker would
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException ie) {
        return;
      }
    }
  }
}
