package dev.firebreak.benchmarks.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A Java agent that does nothing: what {@code -javaagent} itself costs a JVM's start-up (the JVM
 * adds the {@code java.instrument} module, which turns off CDS's archived module graph, loads the
 * instrumentation classes and the agent jar, and calls premain), whatever the agent does. The
 * harness writes it to a jar of its own at the start of a run ({@link #writeJar}).
 *
 * <p>{@link EmptyTransformer} is the next floor: an agent that watches a method from its first call
 * must see the method's class as it loads, so its premain registers a class-file transformer, which
 * the JVM then calls for every class that loads. That one registers a transformer that changes
 * nothing ({@link #writeTransformerJar}).
 */
public final class EmptyAgent {
  private EmptyAgent() {}

  public static void premain(String args, Instrumentation inst) {
    // nothing: the baseline of every agent's start-up
  }

  /** A jar holding only this class, with {@code Premain-Class} naming it. */
  public static Path writeJar(Path jar) throws IOException {
    return write(jar, EmptyAgent.class, false);
  }

  /**
   * A jar holding only {@link EmptyTransformer}, with {@code Premain-Class} naming it and {@code
   * Can-Retransform-Classes: true} (as an agent that instruments again on a reload needs).
   */
  public static Path writeTransformerJar(Path jar) throws IOException {
    return write(jar, EmptyTransformer.class, true);
  }

  private static Path write(Path jar, Class<?> premain, boolean retransform) throws IOException {
    Manifest manifest = new Manifest();
    Attributes main = manifest.getMainAttributes();
    main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    main.put(new Attributes.Name("Premain-Class"), premain.getName());
    if (retransform) {
      main.put(new Attributes.Name("Can-Retransform-Classes"), "true");
    }
    String entry = premain.getName().replace('.', '/') + ".class";
    try (InputStream in = premain.getClassLoader().getResourceAsStream(entry);
        OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file, manifest)) {
      if (in == null) throw new IOException("cannot read " + entry + " from the benchmarks jar");
      out.putNextEntry(new JarEntry(entry));
      in.transferTo(out);
      out.closeEntry();
    }
    return jar;
  }

  /**
   * An agent whose premain registers a retransform-capable class-file transformer that returns null
   * (no change) for every class: the floor of any agent that watches from the first call. One
   * class, its own transformer: the jar holds nothing else.
   */
  public static final class EmptyTransformer implements ClassFileTransformer {
    public static void premain(String args, Instrumentation inst) {
      inst.addTransformer(new EmptyTransformer(), true);
    }

    @Override
    public byte[] transform(
        ClassLoader loader,
        String className,
        Class<?> classBeingRedefined,
        ProtectionDomain protectionDomain,
        byte[] classfileBuffer) {
      return null;
    }
  }
}
