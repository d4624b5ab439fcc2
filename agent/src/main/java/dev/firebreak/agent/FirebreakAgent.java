package dev.firebreak.agent;

import java.lang.instrument.Instrumentation;

/**
 * {@code Premain-Class} and {@code Agent-Class}. Does as little as possible. By default premain
 * only starts the agent's own thread, which lets the application start first, then puts the probe
 * on the bootstrap class path, reads the rules and installs the class-name filter; Byte Buddy
 * follows when a class needs it (see AgentRuntime). With {@code startup=wait} (and when attached)
 * the rules are read before premain returns. Never throws: an agent that fails must leave the
 * application running (one {@code firebreak:} line on stderr says why).
 */
public final class FirebreakAgent {
  /** {@link System#nanoTime()} when premain (or agentmain) was entered, and when it returned. */
  static volatile long enteredAt;

  static volatile long returnedAt;

  private FirebreakAgent() {}

  public static void premain(String args, Instrumentation inst) {
    enteredAt = System.nanoTime();
    try {
      if (AgentOptions.parse(args, System.getenv()).waitAtStartup()) {
        start(args, inst, false);
      } else {
        System.setProperty("firebreak.status", "starting");
        Thread t = new Thread(new Background(args, inst), "firebreak-start");
        t.setDaemon(true);
        t.start();
      }
    } catch (Throwable t) {
      failed(t);
    }
    returnedAt = System.nanoTime();
  }

  public static void agentmain(String args, Instrumentation inst) {
    enteredAt = System.nanoTime();
    start(args, inst, true);
    returnedAt = System.nanoTime();
  }

  /** How long the agent yields to a starting application at most. */
  static final long YIELD_NANOS = 5_000_000_000L;

  /** When the agent stopped yielding ({@link System#nanoTime()}), 0 if it never did. */
  static volatile long yieldedUntil;

  /**
   * The default start: first let the application start (it loads classes; the agent would compete
   * with it for the CPUs and the class loaders), until no class has loaded for 100 ms or for {@link
   * #YIELD_NANOS} at most, then start the agent. Not a lambda: premain stays clear of the
   * invokedynamic machinery.
   */
  private static final class Background implements Runnable {
    private final String args;
    private final Instrumentation inst;

    Background(String args, Instrumentation inst) {
      this.args = args;
      this.inst = inst;
    }

    @Override
    public void run() {
      try {
        long deadline = enteredAt + YIELD_NANOS;
        int loaded = inst.getAllLoadedClasses().length;
        while (System.nanoTime() < deadline) {
          Thread.sleep(100);
          int now = inst.getAllLoadedClasses().length;
          if (now == loaded) {
            break;
          }
          loaded = now;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable t) {
        // yielding is an optimisation: start now
      }
      yieldedUntil = System.nanoTime();
      start(args, inst, false);
    }
  }

  private static void start(String args, Instrumentation inst, boolean attached) {
    try {
      BootstrapInjector.inject(inst);
      AgentRuntime.start(args, inst, attached);
    } catch (Throwable t) {
      failed(t);
    }
  }

  private static void failed(Throwable t) {
    try {
      System.setProperty("firebreak.status", "failed");
      System.err.println("firebreak: agent failed to start, the application runs without it: " + t);
    } catch (Throwable ignored) {
      // nothing left to report to
    }
  }
}
