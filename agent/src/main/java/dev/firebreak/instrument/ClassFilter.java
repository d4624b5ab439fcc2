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
    if (!startsWithAny(name, c.starts)) {
      return false; // most classes: a glob matches only a name that starts with its literal text
    }
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

  /**
   * The class gate's first look at a class, by its internal name ({@code com/acme/Foo}): texts one
   * of which the name of every class a rule of {@code rs} may match starts with, or null when a
   * class of any name may match (a target wants subtypes, or a glob starts with a wildcard). Empty
   * when none can.
   */
  public String[] internalStarts(RuleSet rs) {
    if (rs == null || !rs.instruments()) {
      return new String[0];
    }
    return compiled(rs).internalStarts;
  }

  /** As {@link #internalStarts(RuleSet)}, for these class globs. */
  public static String[] internalStarts(List<Glob> globs) {
    return internal(starts(globs));
  }

  /**
   * Whether {@code name} starts with one of {@code starts} (null: with anything). Small and free of
   * calls but {@code startsWith}: it runs for every class the JVM loads, and the JIT compiles it
   * cheaply.
   */
  public static boolean startsWithAny(String name, String[] starts) {
    if (starts == null) {
      return true;
    }
    for (int i = 0; i < starts.length; i++) {
      if (name.startsWith(starts[i])) {
        return true;
      }
    }
    return false;
  }

  /**
   * The texts the names {@code globs} match start with, without one that a shorter one already
   * covers; null when one is empty.
   */
  private static String[] starts(List<Glob> globs) {
    List<String> all = new java.util.ArrayList<>();
    for (int i = 0; i < globs.size(); i++) {
      all.addAll(globs.get(i).starts());
    }
    List<String> kept = new java.util.ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      String s = all.get(i);
      if (s.isEmpty()) {
        return null;
      }
      boolean covered = false;
      for (int j = 0; j < all.size() && !covered; j++) {
        String o = all.get(j);
        covered = s.startsWith(o) && (o.length() < s.length() || j < i);
      }
      if (!covered) {
        kept.add(s);
      }
    }
    return kept.toArray(new String[0]);
  }

  private static String[] internal(String[] starts) {
    if (starts == null) {
      return null;
    }
    String[] out = new String[starts.length];
    for (int i = 0; i < starts.length; i++) {
      out[i] = starts[i].replace('.', '/');
    }
    return out;
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

    /** What the name of a class a rule may match starts with ({@link #starts}); null: anything. */
    final String[] starts;

    final String[] internalStarts;

    Compiled(RuleSet rs) {
      of = rs;
      List<Target> targets = rs.targets();
      classGlobs = new Glob[targets.size()];
      methodGlobs = new Glob[targets.size()];
      subtypes = new boolean[targets.size()];
      boolean boot = false;
      boolean anySubtypes = false;
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
        anySubtypes |= t.subtypes();
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
      List<Glob> named = new java.util.ArrayList<>(List.of(classGlobs));
      named.addAll(List.of(netGlobs));
      starts = anySubtypes ? null : ClassFilter.starts(named); // a subtype may have any name
      internalStarts = internal(starts);
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
