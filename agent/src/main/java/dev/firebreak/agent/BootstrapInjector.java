package dev.firebreak.agent;

import dev.firebreak.errors.AgentErrors;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Defines {@code dev.firebreak.bootstrap} in the boot loader, so instrumented classes of any class
 * loader (including a URLClassLoader whose parent is null) resolve the probe. Must run before
 * anything loads a bootstrap class from the agent's own loader.
 *
 * <p>Not by appending a jar to the boot class path: on JDK 17 to 25 that turns class-data sharing
 * off for every class not of the boot loader, with a JVM warning on every start. Instead {@link
 * BootDefiner} is loaded into a throwaway class loader, {@link Instrumentation#redefineModule}
 * opens {@code java.lang} to that loader's module alone, and it defines the four classes with
 * {@code ClassLoader}'s own native entry point. Should a JDK lack that entry point, the old way (a
 * jar appended to the boot class path) still starts the agent, with one {@code firebreak:} line
 * saying why class-data sharing is off.
 */
final class BootstrapInjector {
  static final String PREFIX = "dev/firebreak/bootstrap/";

  /**
   * Every class of the bootstrap package, by name: reading five entries is much cheaper than
   * walking the whole jar in premain. JarContentsIT fails when this list and the jar disagree.
   */
  static final java.util.List<String> CLASSES =
      java.util.List.of("Probe", "Dispatcher", "Dispatcher$1", "ShortCircuitException", "Net");

  private BootstrapInjector() {}

  static void inject(Instrumentation inst) throws IOException {
    if (alreadyOnBootstrap()) {
      return;
    }
    try {
      define(inst);
      return;
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      if (alreadyOnBootstrap()) {
        return;
      }
      AgentErrors.report(
          "bootstrap",
          "cannot define the probe in the boot loader ("
              + AgentErrors.describe(t)
              + "); appending it to the boot class path instead, which turns class-data sharing"
              + " off for the application's classes");
    }
    append(inst);
  }

  /** The bootstrap classes defined in the boot loader through {@link BootDefiner}. */
  private static void define(Instrumentation inst) throws Exception {
    String[] names = new String[CLASSES.size()];
    byte[][] classes = new byte[CLASSES.size()][];
    String definer = BootDefiner.class.getName();
    byte[] definerClass;
    try (AgentJar resources = new AgentJar()) {
      for (int i = 0; i < names.length; i++) {
        names[i] = PREFIX.replace('/', '.') + CLASSES.get(i);
        classes[i] = resources.read(PREFIX + CLASSES.get(i) + ".class");
      }
      definerClass = resources.read(definer.replace('.', '/') + ".class");
    }
    OneClassLoader loader = new OneClassLoader();
    Class<?> c = loader.define(definer, definerClass);
    inst.redefineModule(
        Object.class.getModule(),
        Set.of(),
        Map.of(),
        Map.of("java.lang", Set.of(loader.getUnnamedModule())),
        Set.of(),
        Map.of());
    c.getMethod("define", String[].class, byte[][].class).invoke(null, names, classes);
  }

  /** Holds {@link BootDefiner} alone: what {@code java.lang} is opened to. */
  private static final class OneClassLoader extends ClassLoader {
    OneClassLoader() {
      super("firebreak-boot-definer", null);
    }

    Class<?> define(String name, byte[] bytes) {
      return defineClass(name, bytes, 0, bytes.length);
    }
  }

  /** The old way: a jar of the bootstrap classes appended to the boot class path. */
  private static void append(Instrumentation inst) throws IOException {
    File agentJar = AgentJar.file();
    // not File.createTempFile: its SecureRandom would load the security providers in premain
    File out =
        new File(
            System.getProperty("java.io.tmpdir"),
            "firebreak-bootstrap-"
                + ProcessHandle.current().pid()
                + "-"
                + System.nanoTime()
                + ".jar");
    java.nio.file.Files.newOutputStream(out.toPath(), java.nio.file.StandardOpenOption.CREATE_NEW)
        .close();
    out.deleteOnExit();
    try (JarFile jar = new JarFile(agentJar, false);
        JarOutputStream jos = new JarOutputStream(new FileOutputStream(out))) {
      for (String c : CLASSES) {
        JarEntry e = jar.getJarEntry(PREFIX + c + ".class");
        if (e == null) {
          throw new IOException("the agent jar lacks " + PREFIX + c + ".class");
        }
        jos.putNextEntry(new JarEntry(e.getName()));
        try (InputStream in = jar.getInputStream(e)) {
          in.transferTo(jos);
        }
        jos.closeEntry();
      }
    }
    inst.appendToBootstrapClassLoaderSearch(new JarFile(out));
  }

  /** A second load of the agent (attach after -javaagent) finds the probe already there. */
  private static boolean alreadyOnBootstrap() {
    try {
      Class<?> c = Class.forName("dev.firebreak.bootstrap.Probe", false, null);
      return c.getClassLoader() == null;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
