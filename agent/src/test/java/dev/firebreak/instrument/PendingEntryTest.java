package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.firebreak.bootstrap.Probe;
import dev.firebreak.rules.Glob;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Layer 1: the pending entry woven into a class that loads while the agent starts. A call waits in
 * it until the start is over, then calls the same method again (the instrumented one by then): the
 * body runs once, and an override that called it through {@code super} is not called twice.
 */
class PendingEntryTest {
  private static final String BASE = "testapp.inproc.Pended";

  private static byte[] classFile(String name) throws Exception {
    try (InputStream in =
        PendingEntryTest.class.getResourceAsStream("/" + name.replace('.', '/') + ".class")) {
      return in.readAllBytes();
    }
  }

  /** Defines the two test classes itself, the base one with the pending entry in shout. */
  private static final class Loader extends ClassLoader {
    Loader() {
      super(PendingEntryTest.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith(BASE)) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c != null) {
          return c;
        }
        try {
          byte[] b = classFile(name);
          if (name.equals(BASE)) {
            b = Weaver.pending(b, List.of(Glob.forMethod("shout")));
          }
          return defineClass(name, b, 0, b.length);
        } catch (Exception e) {
          throw new ClassNotFoundException(name, e);
        }
      }
    }
  }

  @Test
  void aCallWaitsWhileTheAgentStartsThenCallsTheSameMethodAgain() throws Exception {
    @SuppressWarnings("unchecked")
    Function<String, String> louder =
        (Function<String, String>)
            new Loader().loadClass(BASE + "$Louder").getDeclaredConstructor().newInstance();
    Class<?> base = louder.getClass().getSuperclass();
    java.util.concurrent.atomic.AtomicInteger bodies =
        (java.util.concurrent.atomic.AtomicInteger) base.getField("BODIES").get(null);

    Probe.openPending();
    Thread[] caller = new Thread[1];
    CompletableFuture<String> result =
        CompletableFuture.supplyAsync(
            () -> {
              caller[0] = Thread.currentThread();
              return louder.apply("hi");
            });
    // the call waits in the pending entry: the body has not run
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> caller[0] != null && caller[0].getState() == Thread.State.TIMED_WAITING);
    assertThat(bodies.get()).isZero();
    assertThat(result).isNotDone();

    Probe.releasePending();
    // the same method again, not the override: one "!", and the body ran once
    assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("HI!");
    assertThat(bodies.get()).isEqualTo(1);
    // once the start is over the entry lets every call through at once
    assertThat(louder.apply("yo")).isEqualTo("YO!");
    assertThat(bodies.get()).isEqualTo(2);
  }

  @Test
  void aClassWithNoMethodARuleMayNameIsLeftAsItIs() throws Exception {
    assertThat(Weaver.pending(classFile(BASE), List.of(Glob.forMethod("render*")))).isNull();
    assertThat(Weaver.pending(classFile(BASE), null)).isNotNull();
  }
}
