package dev.firebreak.instrument;

import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.AgentErrors;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What premain installs: a transformer that looks at class names only and touches no Byte Buddy
 * class, so the agent's start costs the application almost nothing. Byte Buddy (over a thousand
 * classes) is loaded on the agent's own thread meanwhile; a class whose name a rule can match
 * waits for it, then goes through Byte Buddy like any other. Every other class passes untouched
 * after one glob check.
 *
 * <p>Deliberately free of Byte Buddy types, so loading this class loads none of them.
 */
public final class LazyTransformer implements ClassFileTransformer {
  private static final long WAIT_SECONDS = 60;

  /** Never instrumented unless a rule names a class inside them explicitly. */
  public static final List<String> PROTECTED =
      List.of("java.", "javax.", "jdk.", "sun.", "com.sun.", "net.bytebuddy.", "dev.firebreak.", "org.graalvm.");

  private final Supplier<RuleSet> rules;
  private final Map<String, Glob> globs = new ConcurrentHashMap<>();
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile ClassFileTransformer delegate;
  private volatile boolean failed;

  public LazyTransformer(Supplier<RuleSet> rules) {
    this.rules = rules;
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
      Module module, ClassLoader loader, String internalName, Class<?> redefined, ProtectionDomain pd, byte[] bytes)
      throws IllegalClassFormatException {
    if (internalName == null || !mayMatch(internalName.replace('/', '.'))) {
      return null;
    }
    ClassFileTransformer d = delegate;
    if (d == null) {
      try {
        if (!ready.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
          AgentErrors.report("instrument", "instrumentation not ready after " + WAIT_SECONDS + "s; " + internalName + " is not watched");
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
    return d.transform(module, loader, internalName, redefined, pd, bytes);
  }

  @Override
  public byte[] transform(ClassLoader loader, String internalName, Class<?> redefined, ProtectionDomain pd, byte[] bytes)
      throws IllegalClassFormatException {
    return transform(null, loader, internalName, redefined, pd, bytes);
  }

  /**
   * Could a rule in force match this class? By name only: a glob matches it, or some target
   * wants subtypes (then Byte Buddy has to look at the hierarchy). The agent's own classes and
   * protected packages not named by a rule never match.
   */
  boolean mayMatch(String name) {
    if (name.startsWith("dev.firebreak.")) {
      return false;
    }
    RuleSet rs = rules.get();
    if (rs == null || rs.targets().isEmpty()) {
      return false;
    }
    List<String> protectedPackages = PROTECTED;
    String inProtected = null;
    for (String p : protectedPackages) {
      if (name.startsWith(p)) {
        inProtected = p;
        break;
      }
    }
    for (Target t : rs.targets()) {
      Glob g = globs.computeIfAbsent(t.classGlob(), Glob::forClass);
      if (inProtected != null) {
        String prefix = g.literalPrefix();
        if (!(prefix.startsWith(inProtected) && prefix.length() > inProtected.length())) {
          continue;
        }
      }
      if (t.subtypes() || g.matches(name)) {
        return true;
      }
    }
    return false;
  }
}
