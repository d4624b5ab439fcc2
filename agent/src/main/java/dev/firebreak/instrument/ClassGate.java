package dev.firebreak.instrument;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's transformer, installed by premain before anything of the application loads. It looks
 * at class names only and touches no Byte Buddy class, so a class no rule can match costs one glob
 * check. A class a rule may match goes through the advice transformer once that is ready.
 *
 * <p>With {@code hold} (the default start, {@code startup=watched}) the gate is what makes the
 * start-up guarantee hold: while the rules are not read yet, a class outside the protected packages
 * waits for them; once they are, a class a rule may match waits until the advice transformer is
 * ready. Only the loading thread waits, and only for that class; the agent's own start thread never
 * waits (it would wait for itself). Without {@code hold} ({@code startup=lazy}) nothing waits: what
 * loads early is retransformed once the transformer is ready.
 *
 * <p>Thread-safe: the loading threads only read the volatile state; the start thread sets it and
 * wakes the waiters. {@link #verdict} is a pure function of that state and an explicit time.
 */
public final class ClassGate implements ClassFileTransformer {
  /**
   * How long one class waits at most before it loads unwatched (with a {@code firebreak:} line).
   */
  public static final long MAX_WAIT_NANOS = 60_000_000_000L;

  /** What the gate does with one class now. */
  public enum Verdict {
    /** Load it as it is. */
    PASS,
    /** Hand it to the advice transformer. */
    TRANSFORM,
    /** Wait: the rules or the advice transformer are not ready yet. */
    WAIT,
    /**
     * Load it now with the pending entry ({@link Weaver#pending}): its calls wait for the rules
     * instead of its loading.
     */
    PEND,
    /** Waited {@link #MAX_WAIT_NANOS}: load it as it is, and say so. */
    TIMED_OUT
  }

  private final ClassFilter filter;
  private final boolean hold;
  private final Object lock = new Object();
  private volatile boolean rulesKnown;

  /** Before the rules are read: the class globs found in the file, or null (unknown). */
  private volatile List<Glob> expected;

  /** Before the rules are read: the method globs found in the file, or null (every method). */
  private volatile List<Glob> expectedMethods;

  private volatile RuleSet rules;
  private volatile ClassFileTransformer delegate;
  private volatile boolean failed;
  private volatile Thread starter;

  /**
   * The first look at each class ({@link ClassFilter#startsWithAny}): the internal names a class
   * the gate may do something with starts with; null: any. Follows the state above (set after it,
   * under {@link #lock}, by {@link #rescreen}), so a class it turns away would have passed under
   * the state of that moment.
   */
  private volatile String[] screen;

  /** The pending entry may be woven: the boot loader has the probe (the warm-up thread says so). */
  private volatile boolean pendAllowed;

  /** The classes that loaded with the pending entry, to be retransformed once the rules are in. */
  private final java.util.Set<String> pended = java.util.concurrent.ConcurrentHashMap.newKeySet();

  // AtomicLong, not LongAdder: a LongAdder under contention loads a class lazily, inside a
  // transform
  private final AtomicLong matchNanos = new AtomicLong();
  private final AtomicLong matchClasses = new AtomicLong();
  private final AtomicLong transformNanos = new AtomicLong();
  private final AtomicLong transformClasses = new AtomicLong();
  private final AtomicLong waitNanos = new AtomicLong();
  private final AtomicLong waitClasses = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicInteger waitingNow =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param hold make a class a rule may match wait for the instrumentation (the start-up guarantee)
   */
  public ClassGate(ClassFilter filter, boolean hold) {
    this.filter = filter;
    this.hold = hold;
    this.screen = hold ? null : new String[0];
  }

  /** Sets the screen from the state now; after each change of the state that decides a verdict. */
  private void rescreen() {
    synchronized (lock) {
      screen = screenNow();
    }
  }

  private String[] screenNow() {
    if (failed) {
      return new String[0];
    }
    if (!rulesKnown) {
      if (!hold) {
        return new String[0];
      }
      List<Glob> e = expected;
      return e == null ? null : ClassFilter.internalStarts(e);
    }
    return filter.internalStarts(rules);
  }

  /** The agent's start thread: it never waits at the gate (what it waits for, it does itself). */
  public void startedBy(Thread t) {
    starter = t;
  }

  /**
   * The class globs the rules file names, read cheaply before the rules are: until they are, only a
   * class one of these may match waits. Without them, every application class waits.
   */
  public void expect(List<Glob> globs) {
    expect(globs, null);
  }

  /**
   * As {@link #expect(List)}, with the method globs the file names (null: unknown), so that a class
   * that loads while the rules are read gets the pending entry only in the methods a rule may name.
   */
  public void expect(List<Glob> globs, List<Glob> methodGlobs) {
    expectedMethods = methodGlobs == null ? null : List.copyOf(methodGlobs);
    expected = List.copyOf(globs);
    rescreen();
    wake();
  }

  /**
   * From now on a class the file's globs may match loads at once, with the pending entry, while the
   * rules are read (only with {@code hold}, and only once the globs are known).
   */
  public void allowPending() {
    pendAllowed = true;
    wake();
  }

  /** Whether a class loaded with the pending entry: a call may come to wait in it. */
  public boolean anyPended() {
    return !pended.isEmpty();
  }

  /** The names of the classes that loaded with the pending entry. */
  public java.util.Set<String> pended() {
    return java.util.Set.copyOf(pended);
  }

  /** The rules are read ({@code rs} null: none could be; then nothing waits any more). */
  public void rulesKnown(RuleSet rs) {
    rules = rs;
    rulesKnown = true;
    rescreen();
    wake();
  }

  /** A reload put new rules in force. */
  public void rules(RuleSet rs) {
    rules = rs;
    rescreen();
  }

  /** The advice transformer is ready: waiting classes go through it. */
  public void ready(ClassFileTransformer d) {
    delegate = d;
    wake();
  }

  /** The advice transformer cannot be built: nothing will be instrumented, and nothing waits. */
  public void failed() {
    failed = true;
    rescreen();
    wake();
    if (pendAllowed) {
      dev.firebreak.bootstrap.Probe.releasePending(); // calls waiting in a pending entry go on
    }
  }

  /** The class filter the gate decides with, shared with the advice transformer. */
  public ClassFilter filter() {
    return filter;
  }

  public boolean isReady() {
    return delegate != null;
  }

  private void wake() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /**
   * What to do with class {@code name} of {@code loader}, first seen at {@code since} ({@link
   * System#nanoTime()}), at {@code now}.
   */
  public Verdict verdict(ClassLoader loader, String name, long since, long now) {
    if (ClassFilter.isAgentClass(name) || failed) {
      return Verdict.PASS;
    }
    if (!rulesKnown) {
      // the JDK's own packages are not held back while the rules are read: the agent's start needs
      // them; what of them a rule names is retransformed right after
      if (!hold || ClassFilter.protectedPackage(name) != null) {
        return Verdict.PASS;
      }
      List<Glob> e = expected;
      if (e == null) {
        return waited(since, now);
      }
      if (!anyMatches(e, name)) {
        return Verdict.PASS;
      }
      return pendAllowed ? Verdict.PEND : waited(since, now);
    }
    if (!filter.mayMatch(loader, name, rules)) {
      return Verdict.PASS;
    }
    if (delegate != null) {
      return Verdict.TRANSFORM;
    }
    return hold ? waited(since, now) : Verdict.PASS;
  }

  /** Whether one of {@code globs} matches {@code name}. */
  static boolean anyMatches(List<Glob> globs, String name) {
    for (int i = 0; i < globs.size(); i++) {
      if (globs.get(i).matches(name)) {
        return true;
      }
    }
    return false;
  }

  private static Verdict waited(long since, long now) {
    return now - since >= MAX_WAIT_NANOS ? Verdict.TIMED_OUT : Verdict.WAIT;
  }

  @Override
  public byte[] transform(
      Module module,
      ClassLoader loader,
      String internalName,
      Class<?> redefined,
      ProtectionDomain pd,
      byte[] bytes)
      throws IllegalClassFormatException {
    if (internalName == null) {
      return null;
    }
    // every class the JVM loads comes here: most are turned away by their name's first letters,
    // in a method small enough that the JIT compiles it cheaply
    long start = System.nanoTime();
    matchClasses.incrementAndGet();
    if (!ClassFilter.startsWithAny(internalName, screen)) {
      matchNanos.addAndGet(System.nanoTime() - start);
      return null;
    }
    return look(module, loader, internalName, redefined, pd, bytes, start);
  }

  /** A class the screen let through: the verdict, and the wait or the weave it asks for. */
  private byte[] look(
      Module module,
      ClassLoader loader,
      String internalName,
      Class<?> redefined,
      ProtectionDomain pd,
      byte[] bytes,
      long start)
      throws IllegalClassFormatException {
    // a retransformation, or the start thread itself (what it would wait for, it does): never wait
    boolean mayWait = redefined == null && Thread.currentThread() != starter;
    String name = internalName.replace('/', '.');
    Verdict v = verdict(loader, name, start, start);
    matchNanos.addAndGet(System.nanoTime() - start);
    if (v == Verdict.WAIT) {
      if (!mayWait) {
        return null;
      }
      v = await(loader, name, start, true);
      waitNanos.addAndGet(System.nanoTime() - start);
      waitClasses.incrementAndGet();
    }
    if (v == Verdict.PEND) {
      if (!mayWait) {
        return null;
      }
      long begin = System.nanoTime();
      try {
        byte[] out = Weaver.pending(bytes, expectedMethods);
        if (out == null) {
          return null; // no method a rule may name: nothing to wait for
        }
        pended.add(name);
        if (!rulesKnown) {
          return out;
        }
        // the rules came in meanwhile, and the start may have listed the pending classes before
        // this one: decide again, as for a class that loads now
        v = verdict(loader, name, start, System.nanoTime());
      } catch (Throwable t) {
        v = Verdict.WAIT; // a class the weaver cannot read waits instead
      } finally {
        transformNanos.addAndGet(System.nanoTime() - begin);
        transformClasses.incrementAndGet();
      }
      if (v == Verdict.WAIT || v == Verdict.PEND) {
        v = await(loader, name, start, false);
      }
    }
    if (v == Verdict.TIMED_OUT) {
      AgentErrors.report(
          "instrument",
          "instrumentation not ready after "
              + MAX_WAIT_NANOS / 1_000_000_000L
              + "s; "
              + name
              + " loads unwatched");
      return null;
    }
    if (v != Verdict.TRANSFORM) {
      return null;
    }
    long begin = System.nanoTime();
    try {
      return delegate.transform(module, loader, internalName, redefined, pd, bytes);
    } finally {
      transformNanos.addAndGet(System.nanoTime() - begin);
      transformClasses.incrementAndGet();
    }
  }

  @Override
  public byte[] transform(
      ClassLoader loader,
      String internalName,
      Class<?> redefined,
      ProtectionDomain pd,
      byte[] bytes)
      throws IllegalClassFormatException {
    return transform(null, loader, internalName, redefined, pd, bytes);
  }

  /**
   * @param pend return {@link Verdict#PEND} when it comes, rather than wait for the rules
   */
  private Verdict await(ClassLoader loader, String name, long since, boolean pend) {
    waitingNow.incrementAndGet();
    try {
      return awaitLocked(loader, name, since, pend);
    } finally {
      waitingNow.decrementAndGet();
    }
  }

  /** Classes waiting at the gate now: the agent's start stops yielding when one does. */
  public int waitingNow() {
    return waitingNow.get();
  }

  private Verdict awaitLocked(ClassLoader loader, String name, long since, boolean pend) {
    synchronized (lock) {
      while (true) {
        long now = System.nanoTime();
        Verdict v = verdict(loader, name, since, now);
        if (v == Verdict.PEND && !pend) {
          v = waited(since, now); // the pending entry could not be woven: wait for the rules
        }
        if (v != Verdict.WAIT) {
          return v;
        }
        long millis = Math.max(1, (MAX_WAIT_NANOS - (now - since)) / 1_000_000L);
        try {
          lock.wait(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Verdict.PASS;
        }
      }
    }
  }

  /**
   * Compiles the globs of the rules in force and runs the filter once, so the classes it needs are
   * loaded before it is installed, not while it looks at one of them.
   */
  public void prime() {
    ClassFilter.startsWithAny("java/firebreak/Prime", new String[] {"javax/"});
    verdict(null, "java.firebreak.Prime", 0, 0);
    waited(0, 0);
  }

  /**
   * Loads the classes of the regular expressions globs compile to (a literal one uses Boyer-Moore):
   * compiling one while the gate looks at a class of java.util.regex would be circular. On the
   * agent's start thread, before the rules are known (not in premain: it costs milliseconds there).
   */
  public static void primeGlobs() {
    for (String g : new String[] {"java.firebreak.Prime", "java.firebreak.**", "java.*.Pri?e"}) {
      Glob.forClass(g).matches("java.firebreak.Prime");
    }
    Glob.forMethod("prime*").matches("prime");
    Glob.anyOf(Glob.Kind.CLASS, List.of("java.firebreak.Prime", "x.Y"))
        .matches("java.firebreak.Prime");
  }

  /** Classes the gate looked at, and the time it took (nanoseconds). */
  public long matchedClasses() {
    return matchClasses.get();
  }

  public long matchNanos() {
    return matchNanos.get();
  }

  /** Classes handed to the advice transformer, and the time it took there. */
  public long transformedClasses() {
    return transformClasses.get();
  }

  public long transformNanos() {
    return transformNanos.get();
  }

  /** Classes that waited at the gate, and how long in all. */
  public long waitedClasses() {
    return waitClasses.get();
  }

  public long waitNanos() {
    return waitNanos.get();
  }
}
