package dev.firebreak.instrument;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import net.bytebuddy.jar.asm.ClassReader;

/**
 * The supertypes of a class being loaded, read from class files through its class loader (as
 * resources: nothing is loaded, which a class-file transformer must not do). Used for targets with
 * {@code subtypes: true} and to check a {@code return-arg} fallback; both are rare, so nothing is
 * cached.
 */
final class Hierarchy {
  /** A chain longer than this is broken bytecode or a cycle: stop looking. */
  private static final int MAX_TYPES = 512;

  private Hierarchy() {}

  /**
   * Whether the class with these direct supertypes (internal names), or any supertype above them,
   * has a name (dotted) {@code test} accepts. A supertype whose class file cannot be read ends that
   * branch.
   */
  static boolean anySuperType(
      ClassLoader loader, String superName, String[] interfaces, Predicate<String> test) {
    ArrayDeque<String> todo = new ArrayDeque<>();
    if (superName != null) {
      todo.add(superName);
    }
    if (interfaces != null) {
      for (String i : interfaces) {
        todo.add(i);
      }
    }
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty() && seen.size() < MAX_TYPES) {
      String internal = todo.poll();
      if (!seen.add(internal)) {
        continue;
      }
      if (test.test(internal.replace('/', '.'))) {
        return true;
      }
      ClassReader r = read(loader, internal);
      if (r == null) {
        continue;
      }
      if (r.getSuperName() != null) {
        todo.add(r.getSuperName());
      }
      for (String i : r.getInterfaces()) {
        todo.add(i);
      }
    }
    return false;
  }

  /**
   * Whether a value of class {@code from} is a {@code to} (both Class.getName form, reference
   * types). Throws when {@code from}'s class file cannot be read.
   */
  static boolean assignable(ClassLoader loader, String from, String to) {
    if (from.equals(to) || to.equals("java.lang.Object")) {
      return true;
    }
    if (from.startsWith("[")) {
      if (to.equals("java.lang.Cloneable") || to.equals("java.io.Serializable")) {
        return true;
      }
      if (!to.startsWith("[")) {
        return false;
      }
      String f = from.substring(1);
      String t = to.substring(1);
      if (f.startsWith("L") && t.startsWith("L")) {
        return assignable(loader, f.substring(1, f.length() - 1), t.substring(1, t.length() - 1));
      }
      return f.startsWith("[") && t.startsWith("[") && assignable(loader, f, t);
    }
    if (to.startsWith("[")) {
      return false;
    }
    ClassReader r = read(loader, from.replace('.', '/'));
    if (r == null) {
      throw new IllegalStateException("no class file for " + from);
    }
    return anySuperType(loader, r.getSuperName(), r.getInterfaces(), to::equals);
  }

  private static ClassReader read(ClassLoader loader, String internal) {
    String resource = internal + ".class";
    try (InputStream in =
        loader == null
            ? ClassLoader.getSystemResourceAsStream(resource)
            : loader.getResourceAsStream(resource)) {
      return in == null ? null : new ClassReader(in.readAllBytes());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
