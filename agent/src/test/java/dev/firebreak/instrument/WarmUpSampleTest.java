package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.List;
import net.bytebuddy.jar.asm.ClassReader;
import org.junit.jupiter.api.Test;

/**
 * The weaver's warm-up swallows every error (it is only an optimisation), so a sample it cannot
 * weave would cost the first application class the whole cold start, silently. Both weaves of the
 * sample must work, and the result must pass the JVM's verifier.
 */
class WarmUpSampleTest {
  private static byte[] sample() throws Exception {
    try (InputStream in =
        Instrumenter.class.getClassLoader().getResourceAsStream(Instrumenter.WARM_UP_SAMPLE)) {
      return in.readAllBytes();
    }
  }

  /** Defines the class anew, links it (the verifier runs) and lists its methods. */
  private static int definedMethods(byte[] classFile) throws Exception {
    ClassLoader loader =
        new ClassLoader(WarmUpSampleTest.class.getClassLoader()) {
          @Override
          protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.equals(WarmUpSample.class.getName())) {
              synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : defineClass(name, classFile, 0, classFile.length);
              }
            }
            return super.loadClass(name, resolve);
          }
        };
    Class<?> c = Class.forName(WarmUpSample.class.getName(), true, loader);
    assertThat(c.getClassLoader()).isSameAs(loader);
    Method[] methods = c.getDeclaredMethods();
    return methods.length;
  }

  @Test
  void theSampleGetsThePendingEntryAndVerifies() throws Exception {
    byte[] out = Weaver.pending(sample(), List.of(dev.firebreak.rules.Glob.forMethod("*")));

    assertThat(out).isNotNull();
    assertThat(definedMethods(out)).isEqualTo(WarmUpSample.class.getDeclaredMethods().length);
  }

  @Test
  void theSampleIsWovenWholeAndVerifies() throws Exception {
    byte[] in = sample();
    int[] woven = new int[1];
    byte[] out =
        Weaver.weave(
            new ClassReader(in),
            LeafMethods.scan(in).maxLocals(),
            (access, method, descriptor) -> {
              woven[0]++;
              return woven[0] % 2 == 0 ? Weaver.Weave.NET : Weaver.Weave.probe(1, 0);
            });

    assertThat(out).isNotNull();
    assertThat(woven[0]).isGreaterThanOrEqualTo(7);
    assertThat(definedMethods(out)).isEqualTo(WarmUpSample.class.getDeclaredMethods().length);
  }
}
