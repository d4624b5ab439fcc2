package dev.firebreak.instrument;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.MethodInfo;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * Weaves the agent's calls ({@link Weaver}) into the methods the rules name. {@link #transformer()}
 * is a plain ClassFileTransformer, called by the {@link ClassGate} for the classes whose name a
 * rule may match: it reads the class file with ASM only (a supertype's class file only for targets
 * with {@code subtypes: true} or a {@code return-arg} fallback to check), so the class-load path
 * loads no Byte Buddy type and never reaches {@code sun.misc.Unsafe}. Each watched method gets an
 * int id at transform time; the woven code carries it as a constant.
 */
public final class Instrumenter {

  private final Engine engine;
  private final Supplier<RuleSet> rules;
  private final ClassFilter filter;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();

  /** Classes that got the auto-fence's net: watched, though none of their methods is a target's. */
  private final Set<String> netted = ConcurrentHashMap.newKeySet();

  public Instrumenter(Engine engine, Supplier<RuleSet> rules, ClassFilter filter) {
    this.engine = engine;
    this.rules = rules;
    this.filter = filter;
  }

  /** Set once {@link #warmUp} has run: a second call costs nothing. */
  private static volatile boolean warm;

  /** Where the agent jar holds {@link WarmUpSample}'s class file, for {@link #warmUp}. */
  public static final String WARM_UP_SAMPLE = "dev/firebreak/instrument/WarmUpSample.class";

  /** Whether {@link #warmUp} has run. */
  public static boolean warm() {
    return warm;
  }

  /**
   * Weaves {@code sample} (the class file of {@link WarmUpSample}, read by the caller) and throws
   * the result away, so that ASM's and the weaver's classes are loaded and have run once before the
   * first class the rules match waits for them. Once; never throws.
   */
  public static void warmUp(byte[] sample) {
    if (warm) {
      return;
    }
    try {
      Weaver.pending(sample, java.util.List.of(dev.firebreak.rules.Glob.forMethod("*")));
      LeafMethods.Facts facts = LeafMethods.scan(sample);
      Weaver.weave(new ClassReader(sample), facts.maxLocals(), new WarmUpPlan());
      warm = true;
    } catch (Throwable t) {
      // only an optimisation
    }
  }

  /** The warm-up's plan: every other method of the sample to the net, the others probed. */
  private static final class WarmUpPlan implements Weaver.Plan {
    private int n;

    @Override
    public Weaver.Weave of(int access, String method, String descriptor) {
      Signatures.label(method, descriptor);
      Signatures.parameterTypes(descriptor);
      return n++ % 2 == 0 ? Weaver.Weave.NET : Weaver.Weave.probe(1, 0);
    }
  }

  /** The weaving transformer. */
  public ClassFileTransformer transformer() {
    return new WeavingTransformer();
  }

  /** The weaver on one class at a time, inside the JVM's class-file hook. */
  private final class WeavingTransformer implements ClassFileTransformer {
    /** The transform of this thread in progress: a class loaded meanwhile passes. */
    private final ThreadLocal<Boolean> busy = new ThreadLocal<>();

    @Override
    public byte[] transform(
        ClassLoader loader,
        String internalName,
        Class<?> redefined,
        ProtectionDomain pd,
        byte[] bytes) {
      RuleSet rs = rules.get();
      if (internalName == null || rs == null || busy.get() != null) {
        return null;
      }
      String name = internalName.replace('/', '.');
      if (filter.ignored(name, rs)) {
        return null;
      }
      busy.set(Boolean.TRUE);
      try {
        ClassReader reader = new ClassReader(bytes);
        boolean net = filter.inNet(name, rs);
        List<Integer> targets = targetsFor(loader, name, reader, rs);
        if (!net && targets.isEmpty()) {
          return null;
        }
        LeafMethods.Facts facts = LeafMethods.scan(bytes);
        byte[] out =
            Weaver.weave(
                reader, facts.maxLocals(), new ClassPlan(loader, name, targets, rs, facts, net));
        if (net) {
          netted.add(name);
        }
        return out;
      } catch (Throwable t) {
        AgentErrors.report(
            "instrument", "could not instrument " + name + ": " + AgentErrors.describe(t));
        return null;
      } finally {
        busy.remove();
      }
    }
  }

  /**
   * What each method of a class being loaded gets: the probe of the first target covering it, the
   * auto-fence's net, or nothing. A class, not a lambda: no invokedynamic bootstrap at start.
   */
  private final class ClassPlan implements Weaver.Plan {
    private final ClassLoader loader;
    private final String name;
    private final List<Integer> targets;
    private final RuleSet rs;
    private final LeafMethods.Facts facts;
    private final boolean net;

    ClassPlan(
        ClassLoader loader,
        String name,
        List<Integer> targets,
        RuleSet rs,
        LeafMethods.Facts facts,
        boolean net) {
      this.loader = loader;
      this.name = name;
      this.targets = targets;
      this.rs = rs;
      this.facts = facts;
      this.net = net;
    }

    @Override
    public Weaver.Weave of(int access, String method, String descriptor) {
      Target t = targetFor(loader, name, targets, rs, method, descriptor);
      String key = method + descriptor;
      if (t != null) {
        // a method glob leaves out methods that can be in no recursion or loop,
        // unless the target asks for them
        boolean broad = t.methodGlob().contains("*") || t.methodGlob().contains("?");
        if (!t.leaves() && broad && facts.leaves().contains(key)) {
          return null;
        }
        int id = register(name, method, descriptor, t).id();
        return Weaver.Weave.probe(id, fallbackArgument(t, descriptor));
      }
      // the auto-fence's net: every method no target covers that can be in a cycle
      return net && !facts.leaves().contains(key) ? Weaver.Weave.NET : null;
    }
  }

  /** Types as the class loader of a class being loaded sees them, read without loading any. */
  private static final class LoaderTypes implements Signatures.Assignability {
    private final ClassLoader loader;

    LoaderTypes(ClassLoader loader) {
      this.loader = loader;
    }

    @Override
    public boolean assignable(String from, String to) {
      return Hierarchy.assignable(loader, from, to);
    }
  }

  private static int fallbackArgument(Target t, String descriptor) {
    if (t.fallback() instanceof dev.firebreak.rules.Fallback.ReturnArg a
        && a.index() < Type.getArgumentTypes(descriptor).length) {
      return a.index();
    }
    return -1;
  }

  /**
   * After a reload: retransforms every loaded class that the old or the new rules match, so added
   * targets get the advice, removed ones get their original bytecode back, and changed fallbacks
   * are rebound. Returns how many classes were retransformed.
   */
  public int retransform(Instrumentation inst, RuleSet old, RuleSet next) {
    return retransform(inst, old, next, null);
  }

  /**
   * Retransforms the loaded classes the rules match that have no method watched yet (a class can
   * slip between installing the transformer and listing the loaded classes).
   */
  public int retransformUnwatched(Instrumentation inst, RuleSet rules) {
    return retransform(inst, null, rules, watchedClasses());
  }

  /** The names of the classes woven so far: a method of theirs registered, or the net. */
  public Set<String> watchedClasses() {
    Set<String> watched = new java.util.HashSet<>();
    for (MethodInfo m : engine.methods().all()) {
      watched.add(m.className());
    }
    watched.addAll(netted);
    return watched;
  }

  /**
   * Retransforms the loaded classes the old or the new rules match (or the net covers), except
   * those named in {@code skip} (null: none). Returns how many were retransformed.
   */
  private int retransform(Instrumentation inst, RuleSet old, RuleSet next, Set<String> skip) {
    if ((old == null || !old.instruments()) && (next == null || !next.instruments())) {
      return 0;
    }
    // the classes under the net need a new look only when the net changed
    boolean net = !java.util.Objects.equals(netOf(old), netOf(next));
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      // by name first: tens of thousands of classes go through this loop, mostly interpreted
      if (!(matchesLoaded(c, old, next) || net && inNet(c, old, next))) {
        continue;
      }
      if (c.isArray()
          || c.isPrimitive()
          || c.isSynthetic()
          || c.getName().contains("$$Lambda")
          || !inst.isModifiableClass(c)) {
        continue;
      }
      if (skip == null || !skip.contains(c.getName())) {
        classes.add(c);
      }
    }
    return retransformAll(inst, classes);
  }

  /** How many classes one retransformation takes at most: one safepoint each, kept short. */
  private static final int BATCH = 64;

  /**
   * Retransforms these classes in batches: the JVM walks every loaded class once per
   * retransformation (tens of milliseconds with tens of thousands of classes), so one call per
   * class would cost that walk each time. A batch that fails is retried a class at a time, and what
   * still fails is reported. Returns how many were retransformed.
   */
  public static int retransformAll(Instrumentation inst, List<Class<?>> classes) {
    int done = 0;
    for (int from = 0; from < classes.size(); from += BATCH) {
      List<Class<?>> batch = classes.subList(from, Math.min(classes.size(), from + BATCH));
      try {
        inst.retransformClasses(batch.toArray(new Class<?>[0]));
        done += batch.size();
        continue;
      } catch (Throwable t) {
        // one at a time below, to tell which
      }
      for (Class<?> c : batch) {
        try {
          inst.retransformClasses(c);
          done++;
        } catch (Throwable t) {
          AgentErrors.report(
              "instrument",
              "could not retransform " + c.getName() + ": " + AgentErrors.describe(t));
        }
      }
    }
    return done;
  }

  private static List<String> netOf(RuleSet rs) {
    return rs == null || rs.autoFence() == null ? null : rs.autoFence().packages();
  }

  private boolean inNet(Class<?> c, RuleSet old, RuleSet next) {
    return filter.inNet(c.getName(), old) || filter.inNet(c.getName(), next);
  }

  /**
   * Retransforms the loaded classes of these names (of every class loader): the classes of a fence
   * just put up. Returns how many were retransformed.
   */
  public int retransformNamed(Instrumentation inst, Set<String> names) {
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (names.contains(c.getName()) && inst.isModifiableClass(c)) {
        classes.add(c);
      }
    }
    return retransformAll(inst, classes);
  }

  private boolean matchesLoaded(Class<?> c, RuleSet old, RuleSet next) {
    return matchesLoaded(c, old) || matchesLoaded(c, next);
  }

  private boolean matchesLoaded(Class<?> c, RuleSet rs) {
    if (rs == null || !filter.mayMatch(c.getClassLoader(), c.getName(), rs)) {
      return false;
    }
    List<Target> targets = rs.targets();
    for (int i = 0; i < targets.size(); i++) {
      Glob g = filter.classGlob(rs, i);
      if (g.matches(c.getName())) {
        return true;
      }
      if (targets.get(i).subtypes() && !c.isInterface() && hasSuperTypeNamed(c, g)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasSuperTypeNamed(Class<?> c, Glob g) {
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      if (g.matches(k.getName())) {
        return true;
      }
      for (Class<?> i : k.getInterfaces()) {
        if (interfaceNamed(i, g)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean interfaceNamed(Class<?> i, Glob g) {
    if (g.matches(i.getName())) {
      return true;
    }
    for (Class<?> s : i.getInterfaces()) {
      if (interfaceNamed(s, g)) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ matching

  /**
   * The indexes of the targets whose class glob matches this class (or, with {@code subtypes:
   * true}, a supertype's name), in file order.
   */
  private List<Integer> targetsFor(
      ClassLoader loader, String name, ClassReader reader, RuleSet rs) {
    List<Integer> out = new ArrayList<>();
    List<Target> targets = rs.targets();
    boolean isInterface = (reader.getAccess() & Opcodes.ACC_INTERFACE) != 0;
    for (int i = 0; i < targets.size(); i++) {
      Glob g = filter.classGlob(rs, i);
      if (g.matches(name)) {
        out.add(i);
      } else if (targets.get(i).subtypes()
          && !isInterface
          && Hierarchy.anySuperType(
              loader, reader.getSuperName(), reader.getInterfaces(), g::matches)) {
        out.add(i);
      }
    }
    return out;
  }

  /** The first target (in file order) that covers this method and whose fallback fits it. */
  private Target targetFor(
      ClassLoader loader,
      String className,
      List<Integer> candidates,
      RuleSet rs,
      String method,
      String descriptor) {
    for (int i : candidates) {
      Target t = rs.targets().get(i);
      if (!filter.methodGlob(rs, i).matches(method)
          || t.automatic() && !t.members().contains(className + "#" + method)) {
        continue;
      }
      String problem = Signatures.incompatibility(t, descriptor, new LoaderTypes(loader));
      if (problem != null) {
        String key = t.name() + "|" + className + "#" + method + descriptor;
        if (reported.add(key)) {
          AgentErrors.report(
              "rules",
              t.position()
                  + ": target "
                  + t.name()
                  + ": "
                  + problem
                  + " ("
                  + className
                  + "."
                  + Signatures.label(method, descriptor)
                  + " is not instrumented)");
        }
        continue;
      }
      return t;
    }
    return null;
  }

  private MethodInfo register(String className, String method, String descriptor, Target t) {
    return engine.register(
        className,
        method,
        descriptor,
        Signatures.label(method, descriptor),
        Signatures.returnType(descriptor),
        Signatures.parameterTypes(descriptor),
        t.name());
  }
}
