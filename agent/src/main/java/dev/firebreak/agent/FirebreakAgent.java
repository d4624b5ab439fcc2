package dev.firebreak.agent;

import dev.firebreak.agent.AgentOptions.Startup;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.instrument.ClassFilter;
import dev.firebreak.instrument.ClassGate;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RulesParser;
import java.lang.instrument.Instrumentation;
import java.util.List;

/**
 * {@code Premain-Class} and {@code Agent-Class}. Does as little as possible. By default ({@code
 * startup=watched}) premain installs the {@link ClassGate}, which holds back a class a rule may
 * match (it loads with the pending entry, whose calls wait, or it waits while it loads) until its
 * instrumentation is ready, and starts two threads of the agent's own: the warm-up thread puts the
 * probe in the boot loader and readies the weaver; the start thread takes a quick look at the rules
 * file's globs, reads the rules into a prepared runtime, lets the application start, then builds
 * the rest (see AgentRuntime). With {@code startup=lazy} premain only starts the start thread,
 * which first lets the application start and holds nothing back. Never throws: an agent that fails
 * must leave the application running (one {@code firebreak:} line on stderr says why).
 */
public final class FirebreakAgent {
  /** {@link System#nanoTime()} when premain (or agentmain) was entered, and when it returned. */
  static volatile long enteredAt;

  static volatile long returnedAt;

  private FirebreakAgent() {}

  public static void premain(String args, Instrumentation inst) {
    enteredAt = System.nanoTime();
    try {
      AgentOptions options = AgentOptions.parse(args, System.getenv());
      System.setProperty("firebreak.status", "starting");
      ClassGate gate = null;
      if (options.startup() == Startup.WATCHED) {
        gate = new ClassGate(new ClassFilter(), true);
        gate.prime();
      } else {
        AgentErrors.log(
            "startup=lazy: calls made before the agent reports running"
                + " (system property firebreak.status) are not watched");
      }
      Start start = new Start(args, options.rules(), inst, gate);
      if (gate != null) {
        // at once, beside the start thread's look at the rules: the probe in the boot loader and
        // the weaver ready, so that a class the rules may match can load with the pending entry
        start.warmUp = new WarmUp(inst, gate);
        start.other = new Thread(start.warmUp, "firebreak-warm-up");
        start.other.setDaemon(true);
        start.other.start();
      }
      Thread t = new Thread(start, "firebreak-start");
      t.setDaemon(true);
      if (gate != null) {
        gate.startedBy(t);
        inst.addTransformer(gate, true);
      }
      t.start();
    } catch (Throwable t) {
      failed(t);
    }
    returnedAt = System.nanoTime();
  }

  /**
   * The rules file's bytes, for the cheap look of {@link RulesPrescan}; the agent then parses these
   * same bytes. Null when they cannot be read here (the parser then says why).
   */
  private static byte[] readRules(String path) {
    if (path == null) {
      return null;
    }
    // java.io, not java.nio.file: the NIO file system's first use loads and initializes tens of
    // classes (10-20 ms), while the application's main class waits for this look at the file
    java.io.File file = new java.io.File(path);
    try (java.io.FileInputStream in = new java.io.FileInputStream(file)) {
      if (!file.isFile() || file.length() > RulesParser.MAX_BYTES) {
        return null;
      }
      return in.readAllBytes();
    } catch (Exception e) {
      return null;
    }
  }

  public static void agentmain(String args, Instrumentation inst) {
    enteredAt = System.nanoTime();
    start(args, inst, true, null, null, null, false);
    returnedAt = System.nanoTime();
  }

  /**
   * How long the default start lets a starting application go first at most, before it parses the
   * rules (nothing a rule may name runs meanwhile: see {@code yieldUntilNeeded}).
   */
  static final long WATCHED_YIELD_NANOS = 2_000_000_000L;

  /**
   * When the default start parses the rules beside an application that is still starting, if a
   * class the rules may name has loaded (with the pending entry, so a call may come to wait in it).
   * A short start (a service up in a few hundred milliseconds) runs alone on the CPUs, the agent's
   * parse after it: on two CPUs the parse beside it slowed the sample service's first response by a
   * quarter. A long start (thousands of classes) has its calls come late, and by then the rules
   * parsed and the classes that loaded with the pending entry instrumented: they do not wait. One
   * that loads nothing the rules name does not pay for the parse during its start.
   */
  static final long PREPARE_AFTER_NANOS = 500_000_000L;

  /** How long {@code startup=lazy} yields to a starting application at most. */
  static final long YIELD_NANOS = 5_000_000_000L;

  /** When the start thread had parsed the rules file ({@link System#nanoTime()}), 0 if not yet. */
  static volatile long parsedAt;

  /** When the agent stopped yielding ({@link System#nanoTime()}), 0 if it never did. */
  static volatile long yieldedUntil;

  /**
   * The agent's start thread. With the gate ({@code startup=watched}) it looks at the file's globs
   * at once (until then every application class waits), then lets the application start unless a
   * call or a class waits for the rules. Without ({@code startup=lazy}) it first lets the
   * application start (it loads classes; the agent would compete with it for the CPUs and the class
   * loaders), until no class has loaded for 100 ms or for {@link #YIELD_NANOS} at most. Not a
   * lambda: premain stays clear of the invokedynamic machinery.
   */
  private static final class Start implements Runnable {
    private final String args;
    private final Instrumentation inst;
    private final ClassGate gate;
    private final String rulesPath;
    WarmUp warmUp;
    Thread other;

    Start(String args, String rulesPath, Instrumentation inst, ClassGate gate) {
      this.args = args;
      this.rulesPath = rulesPath;
      this.inst = inst;
      this.gate = gate;
    }

    @Override
    public void run() {
      byte[] rules = null;
      if (gate == null) {
        yieldToTheApplication();
        start(args, inst, false, gate, null, null, false);
        return;
      }
      // first of all (a few milliseconds): the class globs the file names, so that while the
      // rules are parsed only the classes they may match are held back (until then every class
      // of the application waits, the main class too)
      boolean expected = false;
      try {
        rules = readRules(rulesPath);
        List<Glob> globs = rules == null ? null : RulesPrescan.classGlobs(rules);
        if (globs != null) {
          gate.expect(globs, RulesPrescan.methodGlobs(rules));
          expected = true;
        }
      } catch (Throwable t) {
        rules = null; // only an optimisation: every application class waits for the rules
      }
      WarmUp warmUp = this.warmUp; // started by premain
      Thread other = this.other;
      try {
        ClassGate.primeGlobs();
      } catch (Throwable t) {
        // the rules' globs load these classes later anyway
      }
      try {
        other.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      rulesBytes = rules;
      injected = warmUp.injected;
      if (expected && injected) {
        // what the rules may name is held back (its classes load with the pending entry): the
        // rest of the start can let the application start first, unless a call or a class waits
        yieldUntilNeeded();
      }
      prepareOnce();
      try {
        // for tests only: hold the rules back, so that the application meets the pending entry
        long delay = Long.getLong("firebreak.test.delay-rules-ms", 0L);
        if (delay > 0) {
          Thread.sleep(delay);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (prepared != null) {
        finish(prepared, gate);
      }
    }

    /** What {@link #prepareOnce} needs: the file's bytes as the quick look read them. */
    private byte[] rulesBytes;

    private boolean injected;
    private boolean preparedYet;
    private AgentRuntime prepared;

    /**
     * Parses the rules and builds the runtime with them in its engine ({@link
     * AgentRuntime#prepare}), once: during the yield when the application's start is a long one, so
     * that a call that then waits in a pending entry waits only for the instrumentation.
     */
    private void prepareOnce() {
      if (!preparedYet) {
        preparedYet = true;
        prepared = prepare(args, inst, false, gate, rulesBytes, parse(rulesBytes), injected);
      }
    }

    /**
     * The rules in force for the classes that loaded with the pending entry, during the yield
     * ({@link AgentRuntime#settleEarly}, which does it once): the calls that come later in a long
     * start need not wait.
     */
    private void settleOnce() {
      if (prepared != null) {
        try {
          prepared.settleEarly();
        } catch (Throwable t) {
          prepared = null; // no finish for a runtime that failed halfway
          abandoned(gate, t);
        }
      }
    }

    /** The rules file parsed, or null (then parsed again, and reported, by the runtime). */
    private AgentRuntime.EarlyRules parse(byte[] rules) {
      try {
        AgentRuntime.EarlyRules e =
            new AgentRuntime.EarlyRules(RulesInForce.parseInitial(rulesPath, rules));
        parsedAt = System.nanoTime();
        return e;
      } catch (Throwable t) {
        return null;
      }
    }

    /**
     * Lets a starting application have the CPUs before the rest of the start, until it has loaded
     * no class for 100 ms ({@link #WATCHED_YIELD_NANOS} at most), or at once when a call waits in a
     * pending entry or a class waits at the gate. An application still starting {@link
     * #PREPARE_AFTER_NANOS} after premain, with a class the rules may name loaded, gets the rules
     * parsed beside it meanwhile.
     */
    private void yieldUntilNeeded() {
      letTheApplicationStart(System.nanoTime() + WATCHED_YIELD_NANOS, true);
    }

    /**
     * A count that grows while the application loads classes: the gate's count of the classes it
     * saw when there is one (free), else the JVM's list of loaded classes (a walk of every class:
     * about 3 ms with 20,000 of them, too dear to take every 100 ms beside a long start).
     */
    private long loadedSoFar() {
      return gate != null ? gate.matchedClasses() : inst.getAllLoadedClasses().length;
    }

    private void yieldToTheApplication() {
      letTheApplicationStart(enteredAt + YIELD_NANOS, false);
    }

    /**
     * Waits until the application has loaded no class for 100 ms, or until {@code deadline}; with
     * {@code untilNeeded}, also no longer than a call or a class waits for the rules (looked at
     * every 5 ms).
     */
    private void letTheApplicationStart(long deadline, boolean untilNeeded) {
      try {
        long lastLook = System.nanoTime();
        long loaded = loadedSoFar();
        while (System.nanoTime() < deadline) {
          if (untilNeeded
              && (dev.firebreak.bootstrap.Probe.pendingWaits() > 0 || gate.waitingNow() > 0)) {
            break;
          }
          if (untilNeeded
              && System.nanoTime() - enteredAt >= PREPARE_AFTER_NANOS
              && gate.anyPended()) {
            prepareOnce();
            settleOnce();
          }
          Thread.sleep(untilNeeded ? 5 : 100);
          if (System.nanoTime() - lastLook >= 100_000_000L) {
            long now = loadedSoFar();
            if (now == loaded) {
              break;
            }
            loaded = now;
            lastLook = System.nanoTime();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable t) {
        // yielding is an optimisation: go on now
      }
      yieldedUntil = System.nanoTime();
    }
  }

  private static void start(
      String args,
      Instrumentation inst,
      boolean attached,
      ClassGate gate,
      byte[] rules,
      AgentRuntime.EarlyRules early,
      boolean injected) {
    AgentRuntime rt = prepare(args, inst, attached, gate, rules, early, injected);
    if (rt != null) {
      finish(rt, gate);
    }
  }

  /** {@link AgentRuntime#prepare}; null when it failed (said why) or an agent runs already. */
  private static AgentRuntime prepare(
      String args,
      Instrumentation inst,
      boolean attached,
      ClassGate gate,
      byte[] rules,
      AgentRuntime.EarlyRules early,
      boolean injected) {
    try {
      if (!injected) {
        BootstrapInjector.inject(inst);
      }
      return AgentRuntime.prepare(args, inst, attached, gate, rules, early);
    } catch (Throwable t) {
      abandoned(gate, t);
      return null;
    }
  }

  private static void finish(AgentRuntime rt, ClassGate gate) {
    try {
      rt.finish();
    } catch (Throwable t) {
      abandoned(gate, t);
    }
  }

  /** The start failed: nothing may wait for an agent that is not coming. */
  private static void abandoned(ClassGate gate, Throwable t) {
    if (gate != null) {
      gate.failed();
    }
    failed(t);
  }

  /**
   * Beside the start thread's quick look at the rules: defines the bootstrap classes (nothing that
   * depends on them may load before), loads the runtime's classes and warms up the weaver, so the
   * first class the rules match is woven without loading ASM on the critical path.
   */
  private static final class WarmUp implements Runnable {
    private final Instrumentation inst;
    private final ClassGate gate;
    volatile boolean injected;

    WarmUp(Instrumentation inst, ClassGate gate) {
      this.inst = inst;
      this.gate = gate;
    }

    @Override
    public void run() {
      try {
        BootstrapInjector.inject(inst);
        injected = true;
        // a class the rules may match need not wait for them while it loads any more: its calls
        // wait instead (most run only after the rules are in force)
        dev.firebreak.bootstrap.Probe.openPending();
        gate.allowPending();
        // the weaver first: a class that loads now is woven on its own thread
        AgentJar.warmUpWeaver();
        ClassLoader own = FirebreakAgent.class.getClassLoader();
        for (String c : WARM_CLASSES) {
          Class.forName(c, true, own);
        }
      } catch (Throwable t) {
        // only an optimisation: the start thread injects (and reports) if this did not
      }
    }
  }

  /** The runtime's classes the start needs, loaded by the warm-up thread. */
  private static final String[] WARM_CLASSES = {
    "dev.firebreak.runtime.Engine",
    "dev.firebreak.runtime.Monitor",
    "dev.firebreak.alert.AlertDispatcher",
    "dev.firebreak.fence.AutoFences",
    "dev.firebreak.agent.AgentRuntime",
  };

  private static void failed(Throwable t) {
    try {
      System.setProperty("firebreak.status", "failed");
      System.err.println("firebreak: agent failed to start, the application runs without it: " + t);
    } catch (Throwable ignored) {
      // nothing left to report to
    }
  }
}
