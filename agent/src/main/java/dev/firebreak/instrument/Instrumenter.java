package dev.firebreak.instrument;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.isMethod;
import static net.bytebuddy.matcher.ElementMatchers.isNative;
import static net.bytebuddy.matcher.ElementMatchers.isSynthetic;
import static net.bytebuddy.matcher.ElementMatchers.not;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.Fallbacks;
import dev.firebreak.runtime.MethodInfo;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.method.ParameterDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.implementation.bytecode.constant.IntegerConstant;
import net.bytebuddy.implementation.bytecode.constant.NullConstant;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

/**
 * Puts {@link ProbeAdvice} into the methods the rules name. {@link #transformer()} is a plain
 * ClassFileTransformer that applies the advice as an ASM visitor ({@code ByteBuddy.decorate}: no
 * class format change, no injected helper class, no {@code AgentBuilder}, whose start reaches
 * {@code sun.misc.Unsafe} through its self-injection initialization strategy). It is called by the
 * {@link ClassGate} for the classes whose name a rule may match; it reads a class file only then,
 * and a supertype's only for targets with {@code subtypes: true}. Each instrumented method gets an
 * int id at transform time; the advice carries it as a constant.
 */
public final class Instrumenter {

  /** The methods a method glob can select: concrete, declared in source, no bridges. */
  public static final ElementMatcher.Junction<MethodDescription> INSTRUMENTABLE =
      isMethod()
          .and(not(isAbstract()))
          .and(not(isNative()))
          .and(not(isBridge()))
          .and(not(isSynthetic()));

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

  /**
   * The advice transformer: builds Byte Buddy's advice now (loading Byte Buddy), and instruments
   * the classes it is handed that a rule matches.
   */
  public ClassFileTransformer transformer() {
    Advice advice =
        Advice.withCustomMapping()
            .bind(MethodId.class, new MethodIdMapping())
            .bind(FirstArgument.class, new FirstArgumentMapping())
            .bind(FallbackArgument.class, new FallbackArgumentMapping())
            .to(ProbeAdvice.class);
    ByteBuddy byteBuddy = new ByteBuddy().with(Implementation.Context.Disabled.Factory.INSTANCE);
    return new AdviceTransformer(advice, Advice.to(NetAdvice.class), byteBuddy);
  }

  /** Byte Buddy's advice on one class at a time, inside the JVM's class-file hook. */
  private final class AdviceTransformer implements ClassFileTransformer {
    private final Advice advice;
    private final Advice netAdvice;
    private final ByteBuddy byteBuddy;

    /** The transform of this thread in progress: a class Byte Buddy loads meanwhile passes. */
    private final ThreadLocal<Boolean> busy = new ThreadLocal<>();

    AdviceTransformer(Advice advice, Advice netAdvice, ByteBuddy byteBuddy) {
      this.advice = advice;
      this.netAdvice = netAdvice;
      this.byteBuddy = byteBuddy;
    }

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
        ClassFileLocator locator =
            new ClassFileLocator.Compound(
                ClassFileLocator.Simple.of(name, bytes),
                ClassFileLocator.ForClassLoader.of(loader));
        TypePool pool =
            new TypePool.Default.WithLazyResolution(
                TypePool.CacheProvider.Simple.withObjectType(),
                locator,
                TypePool.Default.ReaderMode.FAST);
        TypeDescription type = pool.describe(name).resolve();
        boolean net = filter.inNet(name, rs);
        if (!net && targetsFor(type, rs).isEmpty()) {
          return null;
        }
        Supplier<Set<String>> leaves = leaves(bytes);
        DynamicType.Builder<?> builder =
            byteBuddy.decorate(type, locator).visit(advice.on(methodMatcher(type, leaves)));
        if (net) {
          // the auto-fence's net: every method no target covers that can take part in a cycle
          builder =
              builder.visit(
                  netAdvice.on(
                      m ->
                          INSTRUMENTABLE.matches(m)
                              && !leaves.get().contains(m.getInternalName() + m.getDescriptor())
                              && targetFor(type, m) == null));
        }
        byte[] out = builder.make(pool).getBytes();
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
   * After a reload: retransforms every loaded class that the old or the new rules match, so added
   * targets get the advice, removed ones get their original bytecode back, and changed fallbacks
   * are rebound. Returns how many classes were retransformed.
   */
  public int retransform(Instrumentation inst, RuleSet old, RuleSet next) {
    return retransform(inst, old, next, c -> true);
  }

  /**
   * Retransforms the loaded classes the rules match that have no method watched yet (a class can
   * slip between installing the transformer and listing the loaded classes).
   */
  public int retransformUnwatched(Instrumentation inst, RuleSet rules) {
    Set<String> watched = new java.util.HashSet<>();
    for (MethodInfo m : engine.methods().all()) {
      watched.add(m.className());
    }
    watched.addAll(netted);
    return retransform(inst, null, rules, c -> !watched.contains(c.getName()));
  }

  private int retransform(
      Instrumentation inst,
      RuleSet old,
      RuleSet next,
      java.util.function.Predicate<Class<?>> wanted) {
    if ((old == null || !old.instruments()) && (next == null || !next.instruments())) {
      return 0;
    }
    // the classes under the net need a new look only when the net changed
    boolean net = !java.util.Objects.equals(netOf(old), netOf(next));
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (c.isArray() || c.isPrimitive() || c.isSynthetic() || !inst.isModifiableClass(c)) {
        continue;
      }
      String name = c.getName();
      if (name.contains("$$Lambda")) {
        continue;
      }
      if ((matchesLoaded(c, old, next) || net && inNet(c, old, next)) && wanted.test(c)) {
        classes.add(c);
      }
    }
    int done = 0;
    for (Class<?> c : classes) {
      try {
        inst.retransformClasses(c);
        done++;
      } catch (Throwable t) {
        AgentErrors.report(
            "instrument", "could not retransform " + c.getName() + ": " + AgentErrors.describe(t));
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
    int done = 0;
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (!names.contains(c.getName()) || !inst.isModifiableClass(c)) {
        continue;
      }
      try {
        inst.retransformClasses(c);
        done++;
      } catch (Throwable t) {
        AgentErrors.report(
            "instrument", "could not retransform " + c.getName() + ": " + AgentErrors.describe(t));
      }
    }
    return done;
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
   * The targets whose class glob matches this type (or a supertype, with {@code subtypes: true}).
   */
  List<Target> targetsFor(TypeDescription type) {
    return targetsFor(type, rules.get());
  }

  private List<Target> targetsFor(TypeDescription type, RuleSet rs) {
    List<Target> out = new ArrayList<>();
    if (rs == null || filter.ignored(type.getName(), rs)) {
      return out;
    }
    List<Target> targets = rs.targets();
    for (int i = 0; i < targets.size(); i++) {
      Target t = targets.get(i);
      Glob g = filter.classGlob(rs, i);
      if (g.matches(type.getName())) {
        out.add(t);
      } else if (t.subtypes() && !type.isInterface()) {
        try {
          if (hasSuperType(named(g)).matches(type)) {
            out.add(t);
          }
        } catch (RuntimeException e) {
          // an unresolvable supertype: this class cannot be a subtype we know of
        }
      }
    }
    return out;
  }

  private static ElementMatcher<TypeDescription> named(Glob g) {
    return t -> g.matches(t.getName());
  }

  /**
   * The methods of {@code type} to instrument: those a target covers, but for a target with a
   * method glob, not the ones that can be in no recursion or loop (no invoke instruction, no
   * backward jump; {@link LeafMethods}), unless the target asks for them. {@code classFile} is the
   * class being transformed, read only if a broad target needs it.
   */
  private ElementMatcher<MethodDescription> methodMatcher(
      TypeDescription type, Supplier<Set<String>> leaves) {
    return m -> {
      if (!INSTRUMENTABLE.matches(m)) {
        return false;
      }
      Target t = targetFor(type, m);
      if (t == null) {
        return false;
      }
      // a method glob leaves out methods that can be in no recursion or loop, unless it asks
      if (t.leaves() || !t.methodGlob().contains("*") && !t.methodGlob().contains("?")) {
        return true;
      }
      return !leaves.get().contains(m.getInternalName() + m.getDescriptor());
    };
  }

  /** The leaf methods of {@code classFile}, read the first time they are asked for. */
  private static Supplier<Set<String>> leaves(byte[] classFile) {
    AtomicReference<Set<String>> leaves = new AtomicReference<>();
    return () -> {
      if (leaves.get() == null) {
        leaves.set(leafMethods(classFile));
      }
      return leaves.get();
    };
  }

  private static Set<String> leafMethods(byte[] classFile) {
    try {
      return LeafMethods.of(classFile);
    } catch (RuntimeException e) {
      return Set.of();
    }
  }

  /** The first target (in file order) that covers this method and whose fallback fits it. */
  Target targetFor(TypeDescription type, MethodDescription m) {
    RuleSet rs = rules.get();
    if (rs == null) {
      return null;
    }
    for (Target t : targetsFor(type, rs)) {
      if (!filter.methodGlob(rs, rs.targets().indexOf(t)).matches(m.getName())
          || t.automatic() && !t.members().contains(type.getName() + "#" + m.getName())) {
        continue;
      }
      String problem = incompatibility(t, m);
      if (problem != null) {
        String key = t.name() + "|" + type.getName() + "#" + m.getName() + m.getDescriptor();
        if (reported.add(key)) {
          AgentErrors.report(
              "rules",
              t.position()
                  + ": target "
                  + t.name()
                  + ": "
                  + problem
                  + " ("
                  + type.getName()
                  + "."
                  + label(m)
                  + " is not instrumented)");
        }
        continue;
      }
      return t;
    }
    return null;
  }

  /**
   * Why the target's fallback cannot serve this method, or null. Shared with {@code validate
   * --classpath}.
   */
  public static String incompatibility(Target t, MethodDescription m) {
    String returnType = m.getReturnType().asErasure().getName();
    List<String> params = parameterTypes(m);
    String problem = Fallbacks.incompatibility(t.fallback(), returnType, params);
    if (problem != null) {
      return problem;
    }
    if (t.fallback() instanceof dev.firebreak.rules.Fallback.ReturnArg a) {
      TypeDescription param = m.getParameters().get(a.index()).getType().asErasure();
      TypeDescription ret = m.getReturnType().asErasure();
      if (!param.isPrimitive() && !ret.isPrimitive() && !param.isAssignableTo(ret)) {
        return "fallback "
            + t.fallback()
            + " is a "
            + param.getName()
            + ", the method returns "
            + ret.getName();
      }
    }
    return null;
  }

  public static List<String> parameterTypes(MethodDescription m) {
    List<String> out = new ArrayList<>();
    for (TypeDescription p : m.getParameters().asTypeList().asErasures()) {
      out.add(p.getName());
    }
    return out;
  }

  /** {@code name(ParamType,...)} with simple type names: the {@code method} label. */
  public static String label(MethodDescription m) {
    StringBuilder b = new StringBuilder(m.getName()).append('(');
    boolean first = true;
    for (TypeDescription p : m.getParameters().asTypeList().asErasures()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append(p.getSimpleName());
    }
    return b.append(')').toString();
  }

  MethodInfo register(TypeDescription type, MethodDescription m) {
    Target t = targetFor(type, m);
    if (t == null) {
      throw new IllegalStateException("no target for " + type.getName() + "." + m.getName());
    }
    return engine.register(
        type.getName(),
        m.getName(),
        m.getDescriptor(),
        label(m),
        m.getReturnType().asErasure().getName(),
        parameterTypes(m),
        t.name());
  }

  // ------------------------------------------------------------------ advice bindings

  private final class MethodIdMapping implements Advice.OffsetMapping {
    @Override
    public Target resolve(
        TypeDescription instrumentedType,
        MethodDescription instrumentedMethod,
        Assigner assigner,
        Advice.ArgumentHandler argumentHandler,
        Sort sort) {
      int id = register(instrumentedType, instrumentedMethod).id();
      return new Target.ForStackManipulation(IntegerConstant.forValue(id));
    }
  }

  private static final class FirstArgumentMapping implements Advice.OffsetMapping {
    @Override
    public Target resolve(
        TypeDescription instrumentedType,
        MethodDescription instrumentedMethod,
        Assigner assigner,
        Advice.ArgumentHandler argumentHandler,
        Sort sort) {
      List<ParameterDescription.InDefinedShape> params =
          instrumentedMethod.asDefined().getParameters();
      if (params.isEmpty() || params.get(0).getType().isPrimitive()) {
        return new Target.ForStackManipulation(NullConstant.INSTANCE);
      }
      return new ForArgument.Unresolved(
              TypeDescription.Generic.OBJECT, true, Assigner.Typing.STATIC, 0, false)
          .resolve(instrumentedType, instrumentedMethod, assigner, argumentHandler, sort);
    }
  }

  private final class FallbackArgumentMapping implements Advice.OffsetMapping {
    @Override
    public Target resolve(
        TypeDescription instrumentedType,
        MethodDescription instrumentedMethod,
        Assigner assigner,
        Advice.ArgumentHandler argumentHandler,
        Sort sort) {
      dev.firebreak.rules.Target t = targetFor(instrumentedType, instrumentedMethod);
      if (t != null
          && t.fallback() instanceof dev.firebreak.rules.Fallback.ReturnArg a
          && a.index() < instrumentedMethod.getParameters().size()) {
        return new ForArgument.Unresolved(
                TypeDescription.Generic.OBJECT, true, Assigner.Typing.DYNAMIC, a.index(), false)
            .resolve(instrumentedType, instrumentedMethod, assigner, argumentHandler, sort);
      }
      return new Target.ForStackManipulation(NullConstant.INSTANCE);
    }
  }
}
