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
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.method.ParameterDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.implementation.bytecode.constant.IntegerConstant;
import net.bytebuddy.implementation.bytecode.constant.NullConstant;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs {@link ProbeAdvice} on the methods the rules name. Type matching looks at names only (no
 * class file is parsed for a class no glob can match) unless a target asks for subtypes. Each
 * instrumented method gets an int id at transform time; the advice carries it as a constant.
 */
public final class Instrumenter {

  /** Never instrumented unless a rule names a class inside them explicitly. */
  public static final List<String> PROTECTED = LazyTransformer.PROTECTED;

  /** The methods a method glob can select: concrete, declared in source, no bridges. */
  public static final ElementMatcher.Junction<MethodDescription> INSTRUMENTABLE =
      isMethod()
          .and(not(isAbstract()))
          .and(not(isNative()))
          .and(not(isBridge()))
          .and(not(isSynthetic()));

  private final Engine engine;
  private final Supplier<RuleSet> rules;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();
  private final Map<String, Glob> globs = new ConcurrentHashMap<>();

  public Instrumenter(Engine engine, Supplier<RuleSet> rules) {
    this.engine = engine;
    this.rules = rules;
  }

  /** Installs the Byte Buddy transformer now, retransforming what is loaded (in-process tests). */
  public ResettableClassFileTransformer install(Instrumentation inst) {
    return builder().installOn(inst);
  }

  /**
   * The Byte Buddy transformer without installing it: {@link LazyTransformer} hands it the classes
   * a rule may match.
   */
  public java.lang.instrument.ClassFileTransformer makeRaw() {
    return builder().makeRaw();
  }

  private AgentBuilder builder() {
    Advice advice =
        Advice.withCustomMapping()
            .bind(MethodId.class, new MethodIdMapping())
            .bind(FirstArgument.class, new FirstArgumentMapping())
            .bind(FallbackArgument.class, new FallbackArgumentMapping())
            .to(ProbeAdvice.class);
    return new AgentBuilder.Default()
        .disableClassFormatChanges()
        .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
        .with(AgentBuilder.PoolStrategy.Default.FAST)
        .with(AgentBuilder.DescriptionStrategy.Default.POOL_FIRST)
        .with(new ErrorListener())
        .ignore(this::ignored)
        .type(this::matchesAnyTarget)
        .transform(
            (DynamicType.Builder<?> builder,
                TypeDescription type,
                ClassLoader loader,
                JavaModule module,
                java.security.ProtectionDomain pd) ->
                builder.visit(advice.on(methodMatcher(type, loader))));
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
    return retransform(inst, null, rules, c -> !watched.contains(c.getName()));
  }

  private int retransform(
      Instrumentation inst,
      RuleSet old,
      RuleSet next,
      java.util.function.Predicate<Class<?>> wanted) {
    List<Target> targets = new ArrayList<>();
    if (old != null) {
      targets.addAll(old.targets());
    }
    if (next != null) {
      targets.addAll(next.targets());
    }
    if (targets.isEmpty()) {
      return 0;
    }
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (c.isArray() || c.isPrimitive() || c.isSynthetic() || !inst.isModifiableClass(c)) {
        continue;
      }
      String name = c.getName();
      if (name.startsWith("dev.firebreak.") || name.contains("$$Lambda")) {
        continue;
      }
      if (matchesLoaded(c, targets) && wanted.test(c)) {
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

  private boolean matchesLoaded(Class<?> c, List<Target> targets) {
    for (Target t : targets) {
      Glob g = glob(t.classGlob(), true);
      if (g.matches(c.getName())) {
        return true;
      }
      if (t.subtypes() && !c.isInterface() && hasSuperTypeNamed(c, g)) {
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

  private Glob glob(String pattern, boolean classGlob) {
    return globs.computeIfAbsent(
        (classGlob ? "c:" : "m:") + pattern,
        k -> classGlob ? Glob.forClass(pattern) : Glob.forMethod(pattern));
  }

  private boolean ignored(
      TypeDescription type,
      ClassLoader loader,
      JavaModule module,
      Class<?> redefined,
      java.security.ProtectionDomain pd) {
    String name = type.getName();
    if (name.startsWith("dev.firebreak.")) {
      return true;
    }
    for (String p : PROTECTED) {
      if (name.startsWith(p)) {
        return !explicitlyNamed(p);
      }
    }
    return false;
  }

  /** A protected package is instrumented only when a glob's literal prefix reaches into it. */
  private boolean explicitlyNamed(String protectedPrefix) {
    RuleSet rs = rules.get();
    if (rs == null) {
      return false;
    }
    for (Target t : rs.targets()) {
      String prefix = glob(t.classGlob(), true).literalPrefix();
      if (prefix.startsWith(protectedPrefix) && prefix.length() > protectedPrefix.length()) {
        return true;
      }
    }
    return false;
  }

  private boolean matchesAnyTarget(
      TypeDescription type,
      ClassLoader loader,
      JavaModule module,
      Class<?> redefined,
      java.security.ProtectionDomain pd) {
    return !targetsFor(type).isEmpty();
  }

  /**
   * The targets whose class glob matches this type (or a supertype, with {@code subtypes: true}).
   */
  List<Target> targetsFor(TypeDescription type) {
    RuleSet rs = rules.get();
    List<Target> out = new ArrayList<>();
    if (rs == null) {
      return out;
    }
    for (Target t : rs.targets()) {
      Glob g = glob(t.classGlob(), true);
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

  private ElementMatcher<MethodDescription> methodMatcher(
      TypeDescription type, ClassLoader loader) {
    // read once per class, and only if a broad target asks
    java.util.concurrent.atomic.AtomicReference<Set<String>> leaves =
        new java.util.concurrent.atomic.AtomicReference<>();
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
      if (leaves.get() == null) {
        leaves.set(leafMethods(type, loader));
      }
      return !leaves.get().contains(m.getInternalName() + m.getDescriptor());
    };
  }

  private static Set<String> leafMethods(TypeDescription type, ClassLoader loader) {
    try {
      net.bytebuddy.dynamic.ClassFileLocator.Resolution r =
          net.bytebuddy.dynamic.ClassFileLocator.ForClassLoader.of(loader).locate(type.getName());
      return r.isResolved() ? LeafMethods.of(r.resolve()) : Set.of();
    } catch (java.io.IOException | RuntimeException e) {
      return Set.of();
    }
  }

  /** The first target (in file order) that covers this method and whose fallback fits it. */
  Target targetFor(TypeDescription type, MethodDescription m) {
    for (Target t : targetsFor(type)) {
      if (!glob(t.methodGlob(), false).matches(m.getName())) {
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

  private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
    @Override
    public void onError(
        String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
      AgentErrors.report(
          "instrument", "could not instrument " + typeName + ": " + AgentErrors.describe(error));
    }
  }
}
