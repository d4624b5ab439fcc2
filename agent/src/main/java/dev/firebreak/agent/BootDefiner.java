package dev.firebreak.agent;

import java.lang.reflect.Method;
import java.security.ProtectionDomain;

/**
 * Defines classes in the boot loader. Never loaded by the agent's own class loader: {@link
 * BootstrapInjector} loads it into a throwaway class loader of its own, and opens {@code java.lang}
 * to that loader's unnamed module only (not to the application's class path, which shares the
 * agent's unnamed module). Needs nothing but {@code java.base}.
 */
public final class BootDefiner {
  private BootDefiner() {}

  /** Defines {@code classes[i]} as {@code names[i]} in the boot loader, in order. */
  public static void define(String[] names, byte[][] classes) throws ReflectiveOperationException {
    // ClassLoader's own native entry point; a null loader is the boot loader
    Method define =
        ClassLoader.class.getDeclaredMethod(
            "defineClass1",
            ClassLoader.class,
            String.class,
            byte[].class,
            int.class,
            int.class,
            ProtectionDomain.class,
            String.class);
    define.setAccessible(true);
    for (int i = 0; i < names.length; i++) {
      define.invoke(null, null, names[i], classes[i], 0, classes[i].length, null, null);
    }
  }
}
