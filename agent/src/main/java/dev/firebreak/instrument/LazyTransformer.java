package dev.firebreak.instrument;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The agent's transformer: looks at class names only and touches no Byte Buddy class, so a class no
 * rule can match costs one glob check, and an application none of whose classes a rule matches
 * never loads Byte Buddy (over a thousand classes) at all. A class whose name a rule may match goes
 * through Byte Buddy; when Byte Buddy is not ready yet, the class either waits for it (the agent is
 * running, or {@code startup=wait}) or, while the agent is still starting in the background, loads
 * as it is and is retransformed once Byte Buddy is ready.
 *
 * <p>Deliberately free of Byte Buddy types, so loading this class loads none of them.
 */
public final class LazyTransformer implements ClassFileTransformer {
  private static final long WAIT_SECONDS = 60;

  /** Never instrumented unless a rule names a class inside them explicitly. */
  public static final List<String> PROTECTED =
      List.of(
          "java.",
          "javax.",
          "jdk.",
          "sun.",
          "com.sun.",
          "net.bytebuddy.",
          "dev.firebreak.",
          "org.graalvm.");

  private final Supplier<RuleSet> rules;
  private final Map<String, Glob> globs = new ConcurrentHashMap<>();
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile ClassFileTransformer delegate;
  private volatile boolean failed;
  // AtomicLong, not LongAdder: a LongAdder under contention loads a class lazily, inside a
  // transform
  private final AtomicLong matchNanos = new AtomicLong();
  private final AtomicLong matchClasses = new AtomicLong();
  private final AtomicLong transformNanos = new AtomicLong();
  private final AtomicLong transformClasses = new AtomicLong();
  private volatile RuleSet bootTargetsOf;
  private volatile boolean bootTargets;

  private final AtomicBoolean requested = new AtomicBoolean();
  private volatile boolean waitForReady = true;
  private volatile Runnable onFirstMatch;

  public LazyTransformer(Supplier<RuleSet> rules) {
    this.rules = rules;
  }

  /**
   * Until {@link #waitFromNowOn()}, a class a rule may match loads untransformed (the agent
   * retransforms it once Byte Buddy is ready) instead of waiting for Byte Buddy.
   */
  public void passWhileStarting() {
    waitForReady = false;
  }

  public void waitFromNowOn() {
    waitForReady = true;
  }

  /**
   * Told (once, on the loading thread, which then waits) when a class a rule may match loads before
   * Byte Buddy is ready, so the agent can start it; must not block.
   */
  public void onFirstMatch(Runnable r) {
    onFirstMatch = r;
  }

  /** Has a class a rule may match been seen before Byte Buddy was ready? */
  public boolean requested() {
    return requested.get();
  }

  /** Is a class already loaded one that a rule may match? By name: no Byte Buddy, no class file. */
  public boolean anyLoadedMayMatch(java.lang.instrument.Instrumentation inst) {
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (c.isArray() || c.isPrimitive() || !inst.isModifiableClass(c)) {
        continue;
      }
      if (mayMatch(c.getClassLoader(), c.getName())) {
        return true;
      }
    }
    return false;
  }

  /** The Byte Buddy transformer, once built. */
  public void ready(ClassFileTransformer d) {
    delegate = d;
    ready.countDown();
  }

  /** Building Byte Buddy failed: nothing will be instrumented, and nothing waits for it. */
  public void failed() {
    failed = true;
    ready.countDown();
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
    long start = System.nanoTime();
    boolean may = internalName != null && mayMatch(loader, internalName.replace('/', '.'));
    matchNanos.addAndGet(System.nanoTime() - start);
    matchClasses.incrementAndGet();
    if (!may) {
      return null;
    }
    ClassFileTransformer d = delegate;
    if (d == null) {
      if (requested.compareAndSet(false, true) && waitForReady) {
        Runnable r = onFirstMatch;
        if (r != null) {
          r.run();
        }
      }
      if (!waitForReady) {
        // the agent is still starting: this class loads as it is and is retransformed once Byte
        // Buddy is ready
        return null;
      }
      try {
        if (!ready.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
          AgentErrors.report(
              "instrument",
              "instrumentation not ready after "
                  + WAIT_SECONDS
                  + "s; "
                  + internalName
                  + " is not watched");
          return null;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      d = delegate;
      if (d == null || failed) {
        return null;
      }
    }
    long begin = System.nanoTime();
    try {
      return d.transform(module, loader, internalName, redefined, pd, bytes);
    } finally {
      transformNanos.addAndGet(System.nanoTime() - begin);
      transformClasses.incrementAndGet();
    }
  }

  /** Classes the name filter looked at, and the time it took (nanoseconds). */
  public long matchedClasses() {
    return matchClasses.get();
  }

  public long matchNanos() {
    return matchNanos.get();
  }

  /** Classes handed to Byte Buddy (a name a rule may match), and the time it took there. */
  public long transformedClasses() {
    return transformClasses.get();
  }

  public long transformNanos() {
    return transformNanos.get();
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
   * Compiles the globs of the rules in force and runs the filter once, so the classes it needs are
   * loaded before it is installed, not while it looks at one of them.
   */
  public void prime() {
    mayMatch(null, "java.firebreak.Prime");
    mayMatch("java.firebreak.Prime");
    mayMatch(ClassLoader.getSystemClassLoader(), "firebreak.prime.Prime");
  }

  /** The protected package {@code name} is in, or null. */
  private static String protectedPackage(String name) {
    for (int i = 0; i < PROTECTED.size(); i++) {
      if (name.startsWith(PROTECTED.get(i))) {
        return PROTECTED.get(i);
      }
    }
    return null;
  }

  /** Does a glob starting with {@code prefix} name classes inside protected package {@code pkg}? */
  private static boolean reachesInto(String prefix, String pkg) {
    return prefix.startsWith(pkg) && prefix.length() > pkg.length();
  }

  /**
   * {@link #mayMatch(String)}, except that the boot loader's classes of protected packages (the
   * JDK's own, which this code itself needs) pass untouched before anything else runs, unless a
   * rule names one: looking at one of them with code that needs it while it loads is a
   * ClassCircularityError.
   */
  private boolean mayMatch(ClassLoader loader, String name) {
    if (loader == null && protectedPackage(name) != null && !bootTargets()) {
      return false;
    }
    return mayMatch(name);
  }

  /**
   * Does a rule in force name a class of a protected package (the JDK's, loaded by the boot
   * loader)?
   */
  private boolean bootTargets() {
    RuleSet rs = rules.get();
    if (rs != bootTargetsOf) {
      boolean any = false;
      if (rs != null) {
        for (Target t : rs.targets()) {
          String g = t.classGlob();
          for (String p : PROTECTED) {
            any |= reachesInto(g, p);
          }
        }
      }
      bootTargets = any;
      bootTargetsOf = rs;
    }
    return bootTargets;
  }

  /**
   * Could a rule in force match this class? By name only: a glob matches it, or some target wants
   * subtypes (then Byte Buddy has to look at the hierarchy). The agent's own classes and protected
   * packages not named by a rule never match.
   */
  boolean mayMatch(String name) {
    if (name.startsWith("dev.firebreak.")) {
      return false;
    }
    RuleSet rs = rules.get();
    if (rs == null || rs.targets().isEmpty()) {
      return false;
    }
    String inProtected = protectedPackage(name);
    for (Target t : rs.targets()) {
      Glob g = globs.computeIfAbsent(t.classGlob(), Glob::forClass);
      if (inProtected != null && !reachesInto(g.literalPrefix(), inProtected)) {
        continue;
      }
      if (t.subtypes() || g.matches(name)) {
        return true;
      }
    }
    return false;
  }
}
