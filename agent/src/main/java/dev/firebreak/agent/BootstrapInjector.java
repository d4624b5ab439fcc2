package dev.firebreak.agent;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.security.CodeSource;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts {@code dev.firebreak.bootstrap} on the bootstrap class path, so instrumented classes of any
 * class loader (including a URLClassLoader whose parent is null) resolve the probe. Must run before
 * anything loads a bootstrap class from the agent's own loader.
 */
final class BootstrapInjector {
  static final String PREFIX = "dev/firebreak/bootstrap/";

  /**
   * Every class of the bootstrap package, by name: reading four entries is much cheaper than
   * walking the whole jar in premain. JarContentsIT fails when this list and the jar disagree.
   */
  static final java.util.List<String> CLASSES =
      java.util.List.of("Probe", "Dispatcher", "Dispatcher$1", "ShortCircuitException");

  private BootstrapInjector() {}

  static void inject(Instrumentation inst) throws IOException {
    if (alreadyOnBootstrap()) {
      return;
    }
    CodeSource source = BootstrapInjector.class.getProtectionDomain().getCodeSource();
    URL location = source == null ? null : source.getLocation();
    if (location == null) {
      throw new IOException("cannot locate the agent jar");
    }
    File agentJar;
    try {
      agentJar = new File(location.toURI());
    } catch (Exception e) {
      throw new IOException("cannot locate the agent jar: " + location, e);
    }
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
    int classes = 0;
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
        classes++;
      }
    }
    if (classes == 0) {
      throw new IOException("no bootstrap classes in " + agentJar);
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
