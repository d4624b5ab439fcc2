package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.errors.AgentErrors;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * {@link Instrumenter#retransformAll}: one JVM retransformation per batch (the JVM walks every
 * loaded class each time), a failed batch retried class by class, and every failure reported.
 */
class RetransformBatchTest {
  /** What an Instrumentation saw: each retransformClasses call's classes; refuses some classes. */
  private static final class Recorder implements InvocationHandler {
    final List<List<Class<?>>> calls = new ArrayList<>();
    final Set<Class<?>> refused;

    Recorder(Set<Class<?>> refused) {
      this.refused = refused;
    }

    Instrumentation instrumentation() {
      return (Instrumentation)
          Proxy.newProxyInstance(
              getClass().getClassLoader(), new Class<?>[] {Instrumentation.class}, this);
    }

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method m, Object[] args)
        throws UnmodifiableClassException {
      if (!m.getName().equals("retransformClasses")) {
        throw new UnsupportedOperationException(m.getName());
      }
      List<Class<?>> classes = List.of((Class<?>[]) args[0]);
      calls.add(classes);
      for (Class<?> c : classes) {
        if (refused.contains(c)) {
          throw new UnmodifiableClassException(c.getName());
        }
      }
      return null;
    }
  }

  private static List<Class<?>> classes(int n) {
    List<Class<?>> all =
        List.of(
            String.class,
            Integer.class,
            Long.class,
            Short.class,
            Byte.class,
            Double.class,
            Float.class,
            Character.class,
            Boolean.class,
            Object.class,
            Number.class,
            Math.class);
    List<Class<?>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(all.get(i % all.size())); // repeats are fine: the recorder only counts
    }
    return out;
  }

  @Test
  void aFewClassesGoInOneCall() {
    Recorder r = new Recorder(Set.of());
    List<Class<?>> cs = classes(10);

    assertThat(Instrumenter.retransformAll(r.instrumentation(), cs)).isEqualTo(10);
    assertThat(r.calls).containsExactly(cs);
  }

  @Test
  void manyClassesGoInBatchesThatKeepEachPauseShort() {
    Recorder r = new Recorder(Set.of());
    List<Class<?>> cs = classes(150);

    assertThat(Instrumenter.retransformAll(r.instrumentation(), cs)).isEqualTo(150);
    assertThat(r.calls).hasSizeGreaterThan(1);
    assertThat(r.calls.stream().mapToInt(List::size).sum()).isEqualTo(150);
    assertThat(r.calls.stream().mapToInt(List::size).max().getAsInt()).isLessThan(150);
  }

  @Test
  void aBatchThatFailsIsRetriedClassByClassAndTheFailureIsReported() {
    Recorder r = new Recorder(Set.of(Long.class));
    LongAdder before = AgentErrors.counts().get("instrument");
    long reported = before == null ? 0 : before.sum();

    int done =
        Instrumenter.retransformAll(
            r.instrumentation(), List.of(String.class, Long.class, Integer.class));

    assertThat(done).isEqualTo(2);
    assertThat(r.calls)
        .containsExactly(
            List.of(String.class, Long.class, Integer.class),
            List.of(String.class),
            List.of(Long.class),
            List.of(Integer.class));
    assertThat(AgentErrors.counts().get("instrument").sum()).isEqualTo(reported + 1);
  }

  @Test
  void nothingToDoCallsNothing() {
    Recorder r = new Recorder(Set.of());

    assertThat(Instrumenter.retransformAll(r.instrumentation(), List.of())).isZero();
    assertThat(r.calls).isEmpty();
  }
}
