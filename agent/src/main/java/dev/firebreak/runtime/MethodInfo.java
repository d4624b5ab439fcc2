package dev.firebreak.runtime;

import java.util.List;

/**
 * One instrumented method, registered at transform time and never removed: its id indexes every
 * per-method array on the hot path.
 *
 * @param label {@code name(ParamType,...)} with simple type names, the {@code method} label
 * @param returnType the return type's name ({@code int}, {@code java.lang.String}, {@code void})
 * @param parameterTypes parameter type names
 */
public record MethodInfo(
    int id,
    String className,
    String name,
    String descriptor,
    String label,
    String returnType,
    List<String> parameterTypes,
    String targetName) {

  public MethodInfo {
    parameterTypes = List.copyOf(parameterTypes);
  }

  public String key() {
    return key(className, name, descriptor);
  }

  static String key(String className, String name, String descriptor) {
    return className + '#' + name + descriptor;
  }
}
