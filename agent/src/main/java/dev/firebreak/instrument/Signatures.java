package dev.firebreak.instrument;

import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Fallbacks;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.jar.asm.Type;

/**
 * Method signatures read from descriptors, the way the agent names them in metrics and checks a
 * target's fallback against them. Shared by the weaver (at class-load time, from the class file)
 * and {@code validate --classpath}, so both say the same.
 */
public final class Signatures {

  /** Whether a reference type (Class.getName form) can be assigned to another. */
  public interface Assignability {
    /** True when a {@code from} value is a {@code to}; throws when it cannot tell. */
    boolean assignable(String from, String to);
  }

  private Signatures() {}

  /** The type's name as {@link Class#getName()} gives it: {@code int}, {@code [Ljava.lang.X;}. */
  static String typeName(Type t) {
    return t.getSort() == Type.ARRAY ? t.getDescriptor().replace('/', '.') : t.getClassName();
  }

  public static String returnType(String descriptor) {
    return typeName(Type.getReturnType(descriptor));
  }

  public static List<String> parameterTypes(String descriptor) {
    Type[] args = Type.getArgumentTypes(descriptor);
    List<String> out = new ArrayList<>(args.length);
    for (Type a : args) {
      out.add(typeName(a));
    }
    return out;
  }

  /** {@code name(ParamType,...)} with simple type names: the {@code method} label. */
  public static String label(String name, String descriptor) {
    StringBuilder b = new StringBuilder(name).append('(');
    Type[] args = Type.getArgumentTypes(descriptor);
    for (int i = 0; i < args.length; i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(simpleName(args[i]));
    }
    return b.append(')').toString();
  }

  private static String simpleName(Type t) {
    if (t.getSort() == Type.ARRAY) {
      return simpleName(t.getElementType()) + "[]".repeat(t.getDimensions());
    }
    String n = t.getClassName();
    n = n.substring(n.lastIndexOf('.') + 1);
    int dollar = n.lastIndexOf('$');
    if (dollar >= 0 && dollar < n.length() - 1) {
      n = n.substring(dollar + 1); // a nested class: its own name, as Class.getSimpleName gives it
    }
    return n;
  }

  /**
   * Why the target's fallback cannot serve this method, or null. {@code types} answers whether a
   * {@code return-arg} parameter's class is a subtype of the return type.
   */
  public static String incompatibility(Target t, String descriptor, Assignability types) {
    String returnType = returnType(descriptor);
    List<String> params = parameterTypes(descriptor);
    String problem = Fallbacks.incompatibility(t.fallback(), returnType, params);
    if (problem != null) {
      return problem;
    }
    if (t.fallback() instanceof Fallback.ReturnArg a) {
      String param = params.get(a.index());
      if (!isPrimitive(param)
          && !isPrimitive(returnType)
          && !param.equals(returnType)
          && !returnType.equals("java.lang.Object")) {
        boolean fits;
        try {
          fits = types.assignable(param, returnType);
        } catch (RuntimeException e) {
          return "fallback "
              + t.fallback()
              + " is a "
              + param
              + ", which cannot be read to tell whether it is a "
              + returnType;
        }
        if (!fits) {
          return "fallback "
              + t.fallback()
              + " is a "
              + param
              + ", the method returns "
              + returnType;
        }
      }
    }
    return null;
  }

  private static final java.util.Set<String> PRIMITIVES =
      java.util.Set.of(
          "boolean", "byte", "char", "short", "int", "long", "float", "double", "void");

  private static boolean isPrimitive(String type) {
    return PRIMITIVES.contains(type);
  }
}
