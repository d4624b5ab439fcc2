package dev.firebreak.instrument;

import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import java.util.List;

/**
 * The one owner of "which classes may the agent touch": the agent's own classes never, the JDK's
 * and other protected packages only when a rule's class glob reaches into them explicitly, and any
 * other class when a rule's glob may match its name. Used by the class gate (names only, while a
 * class loads), by the advice transformer and by retransformation, so they cannot disagree.
 *
 * <p>Thread-safe. The compiled globs belong to one rule set: a new rule set compiles new ones, so
 * nothing of a replaced rule set is kept. Deliberately free of Byte Buddy types.
 */
public final class ClassFilter {

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

  private volatile Compiled last;

  /** The agent's own classes (and its relocated libraries): never looked at. */
  public static boolean isAgentClass(String name) {
    return name.startsWith("dev.firebreak.");
  }

  /** The protected package {@code name} is in, or null. */
  public static String protectedPackage(String name) {
    for (int i = 0; i < PROTECTED.size(); i++) {
      if (name.startsWith(PROTECTED.get(i))) {
        return PROTECTED.get(i);
      }
    }
    return null;
  }

  /** Does a glob starting with {@code prefix} name classes inside protected package {@code pkg}? */
  static boolean reachesInto(String prefix, String pkg) {
    return prefix.startsWith(pkg) && prefix.length() > pkg.length();
  }

  /**
   * Could a rule of {@code rs} match this class? By name only: a glob matches it, or some target
   * wants subtypes (then its hierarchy has to be read). The agent's own classes never match; a
   * class of a protected package only when a glob's literal prefix reaches into its package; a boot
   * loader class of a protected package (the JDK's own, which this code itself needs) is ruled out
   * before anything else runs unless a rule reaches into a protected package: looking at one of
   * them with code that needs it while it loads is a ClassCircularityError.
   */
  public boolean mayMatch(ClassLoader loader, String name, RuleSet rs) {
    if (rs == null || !rs.instruments() || isAgentClass(name)) {
      return false;
    }
    Compiled c = compiled(rs);
    String inProtected = protectedPackage(name);
    if (inProtected == null && inNet(name, c)) {
      return true;
    }
    if (inProtected != null && loader == null && !c.bootTargets) {
      return false;
    }
    for (int i = 0; i < c.classGlobs.length; i++) {
      Glob g = c.classGlobs[i];
      if (inProtected != null && !reachesInto(g.literalPrefix(), inProtected)) {
        continue;
      }
      if (c.subtypes[i] || g.matches(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Is this class out of bounds for the rules {@code rs}, whatever its hierarchy: the agent's own,
   * or in a protected package that no glob reaches into?
   */
  public boolean ignored(String name, RuleSet rs) {
    if (isAgentClass(name)) {
      return true;
    }
    String p = protectedPackage(name);
    return p != null && (rs == null || !compiled(rs).reaches(p));
  }

  /**
   * Is this class under the auto-fence's net: in its {@code packages}, and never in a protected
   * package (the parser keeps the globs out of them; this holds even if it did not)?
   */
  public boolean inNet(String name, RuleSet rs) {
    return rs != null
        && rs.autoFence() != null
        && protectedPackage(name) == null
        && inNet(name, compiled(rs));
  }

  private static boolean inNet(String name, Compiled c) {
    for (Glob g : c.netGlobs) {
      if (g.matches(name)) {
        return true;
      }
    }
    return false;
  }

  /** The class glob of target {@code i} of {@code rs}. */
  public Glob classGlob(RuleSet rs, int i) {
    return compiled(rs).classGlobs[i];
  }

  /** The method glob of target {@code i} of {@code rs}. */
  public Glob methodGlob(RuleSet rs, int i) {
    return compiled(rs).methodGlobs[i];
  }

  private Compiled compiled(RuleSet rs) {
    Compiled c = last;
    if (c == null || c.of != rs) {
      c = new Compiled(rs);
      last = c;
    }
    return c;
  }

  /** The globs of one rule set, index by index with its targets. Immutable once built. */
  private static final class Compiled {
    final RuleSet of;
    final Glob[] classGlobs;
    final Glob[] methodGlobs;
    final boolean[] subtypes;
    final boolean bootTargets;
    final Glob[] netGlobs;

    Compiled(RuleSet rs) {
      of = rs;
      List<Target> targets = rs.targets();
      classGlobs = new Glob[targets.size()];
      methodGlobs = new Glob[targets.size()];
      subtypes = new boolean[targets.size()];
      boolean boot = false;
      for (int i = 0; i < targets.size(); i++) {
        Target t = targets.get(i);
        if (t.automatic()) {
          // a fence names its methods one by one
          List<String> classes = new java.util.ArrayList<>();
          List<String> methods = new java.util.ArrayList<>();
          for (String m : t.members()) {
            classes.add(m.substring(0, m.indexOf('#')));
            methods.add(m.substring(m.indexOf('#') + 1));
          }
          classGlobs[i] = Glob.anyOf(Glob.Kind.CLASS, classes);
          methodGlobs[i] = Glob.anyOf(Glob.Kind.METHOD, methods);
        } else {
          classGlobs[i] = Glob.forClass(t.classGlob());
          methodGlobs[i] = Glob.forMethod(t.methodGlob());
        }
        subtypes[i] = t.subtypes();
        for (String p : PROTECTED) {
          boot |= reachesInto(classGlobs[i].literalPrefix(), p);
        }
      }
      bootTargets = boot;
      List<String> packages = rs.autoFence() == null ? List.of() : rs.autoFence().packages();
      netGlobs = new Glob[packages.size()];
      for (int i = 0; i < packages.size(); i++) {
        netGlobs[i] = Glob.forClass(packages.get(i));
      }
    }

    boolean reaches(String protectedPackage) {
      for (Glob g : classGlobs) {
        if (reachesInto(g.literalPrefix(), protectedPackage)) {
          return true;
        }
      }
      return false;
    }
  }
}
