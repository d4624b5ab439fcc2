package dev.firebreak.agent;

import dev.firebreak.instrument.Instrumenter;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.security.CodeSource;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Class files of the agent jar, read from the jar itself: the class loader's resource lookup asks
 * the boot and platform loaders first, which walks every module of the run-time image and costs
 * tens of milliseconds at start-up, while the application may already wait for the probe. Falls
 * back to the class loader when the agent's classes do not come from a jar file.
 */
final class AgentJar implements AutoCloseable {
  private final JarFile jar = open();

  private static JarFile open() {
    try {
      File file = file();
      return file.isFile() ? new JarFile(file, false) : null;
    } catch (IOException | RuntimeException e) {
      return null; // the class loader's lookup below
    }
  }

  /** The entry at {@code path} (e.g. {@code dev/firebreak/bootstrap/Probe.class}). */
  byte[] read(String path) throws IOException {
    if (jar != null) {
      JarEntry e = jar.getJarEntry(path);
      if (e != null) {
        try (InputStream in = jar.getInputStream(e)) {
          return in.readAllBytes();
        }
      }
    }
    try (InputStream in = AgentJar.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IOException("the agent jar lacks " + path);
      }
      return in.readAllBytes();
    }
  }

  /**
   * {@link Instrumenter#warmUp} with its sample read from the jar, once: by the warm-up thread at
   * the default start, by the instrumentation's first build otherwise. Never throws.
   */
  static void warmUpWeaver() {
    if (Instrumenter.warm()) {
      return;
    }
    try (AgentJar jar = new AgentJar()) {
      Instrumenter.warmUp(jar.read(Instrumenter.WARM_UP_SAMPLE));
    } catch (IOException | RuntimeException e) {
      // only an optimisation
    }
  }

  @Override
  public void close() throws IOException {
    if (jar != null) {
      jar.close();
    }
  }

  /** Where the agent's classes come from. */
  static File file() throws IOException {
    CodeSource source = AgentJar.class.getProtectionDomain().getCodeSource();
    URL location = source == null ? null : source.getLocation();
    if (location == null) {
      throw new IOException("cannot locate the agent jar");
    }
    try {
      return new File(location.toURI());
    } catch (Exception e) {
      throw new IOException("cannot locate the agent jar: " + location, e);
    }
  }
}
