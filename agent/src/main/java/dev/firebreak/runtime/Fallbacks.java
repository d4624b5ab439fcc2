package dev.firebreak.runtime;

import dev.firebreak.rules.Fallback;

/** The constant a fallback returns, computed once per method when the rules are applied. */
public final class Fallbacks {
  private Fallbacks() {}

  /**
   * The boxed value for {@code return-null}, {@code return-default} and {@code return-value}; the
   * advice unboxes it for primitive return types. Null for void methods.
   *
   * @throws IllegalArgumentException when the text cannot be converted to the return type
   */
  public static Object constant(Fallback fallback, String returnType) {
    if (fallback instanceof Fallback.ReturnDefault) {
      return defaultValue(returnType);
    }
    if (fallback instanceof Fallback.ReturnValue value) {
      return convert(value.text(), returnType);
    }
    return null;
  }

  public static Object defaultValue(String type) {
    switch (type) {
      case "boolean":
        return Boolean.FALSE;
      case "byte":
        return (byte) 0;
      case "short":
        return (short) 0;
      case "char":
        return (char) 0;
      case "int":
        return 0;
      case "long":
        return 0L;
      case "float":
        return 0f;
      case "double":
        return 0d;
      case "java.lang.String":
      case "java.lang.CharSequence":
        return "";
      default:
        return null;
    }
  }

  /** Converts {@code return-value:TEXT} to the return type, or explains why it cannot. */
  public static Object convert(String text, String type) {
    try {
      switch (type) {
        case "java.lang.String":
        case "java.lang.CharSequence":
        case "java.lang.Object":
          return text;
        case "boolean":
        case "java.lang.Boolean":
          if (text.equals("true") || text.equals("false")) {
            return Boolean.valueOf(text);
          }
          throw new IllegalArgumentException("expected true or false, found \"" + text + "\"");
        case "byte":
        case "java.lang.Byte":
          return Byte.valueOf(text);
        case "short":
        case "java.lang.Short":
          return Short.valueOf(text);
        case "int":
        case "java.lang.Integer":
          return Integer.valueOf(text);
        case "long":
        case "java.lang.Long":
          return Long.valueOf(text);
        case "float":
        case "java.lang.Float":
          return Float.valueOf(text);
        case "double":
        case "java.lang.Double":
          return Double.valueOf(text);
        case "char":
        case "java.lang.Character":
          if (text.length() == 1) {
            return text.charAt(0);
          }
          throw new IllegalArgumentException("expected one character, found \"" + text + "\"");
        default:
          throw new IllegalArgumentException(
              "return-value:" + text + " cannot be converted to " + type);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("return-value:" + text + " is not a valid " + type, e);
    }
  }

  /**
   * Why {@code fallback} cannot serve a method returning {@code returnType} with these parameter
   * types, or null when it can. Reference assignability is checked by the caller, which knows the
   * class hierarchy; here only what the names decide.
   */
  public static String incompatibility(
      Fallback fallback, String returnType, java.util.List<String> parameterTypes) {
    boolean isVoid = returnType.equals("void");
    boolean primitive = isPrimitive(returnType);
    if (fallback instanceof Fallback.ReturnNull && primitive) {
      return "fallback return-null cannot be returned by a method returning " + returnType;
    }
    if (fallback instanceof Fallback.ReturnArg arg) {
      if (isVoid) {
        return "fallback " + fallback + " on a void method";
      }
      if (arg.index() >= parameterTypes.size()) {
        return "fallback "
            + fallback
            + " is beyond the method's "
            + parameterTypes.size()
            + " parameter(s)";
      }
      String param = parameterTypes.get(arg.index());
      if (primitive && !param.equals(returnType) && !param.equals(wrapper(returnType))) {
        return "fallback " + fallback + " is a " + param + ", the method returns " + returnType;
      }
      if (!primitive && isPrimitive(param) && !wrapperFits(param, returnType)) {
        return "fallback " + fallback + " is a " + param + ", the method returns " + returnType;
      }
    }
    if (fallback instanceof Fallback.ReturnValue value) {
      if (isVoid) {
        return "fallback " + fallback + " on a void method";
      }
      try {
        convert(value.text(), returnType);
      } catch (IllegalArgumentException e) {
        return e.getMessage();
      }
    }
    return null;
  }

  static boolean isPrimitive(String type) {
    return wrapper(type) != null;
  }

  static String wrapper(String primitive) {
    switch (primitive) {
      case "boolean":
        return "java.lang.Boolean";
      case "byte":
        return "java.lang.Byte";
      case "short":
        return "java.lang.Short";
      case "char":
        return "java.lang.Character";
      case "int":
        return "java.lang.Integer";
      case "long":
        return "java.lang.Long";
      case "float":
        return "java.lang.Float";
      case "double":
        return "java.lang.Double";
      default:
        return null;
    }
  }

  private static boolean wrapperFits(String primitive, String target) {
    String w = wrapper(primitive);
    return target.equals(w)
        || target.equals("java.lang.Object")
        || target.equals("java.io.Serializable")
        || target.equals("java.lang.Comparable")
        || (target.equals("java.lang.Number")
            && !primitive.equals("boolean")
            && !primitive.equals("char"));
  }
}
