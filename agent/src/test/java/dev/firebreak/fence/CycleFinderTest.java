package dev.firebreak.fence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class CycleFinderTest {

  private static StackTraceElement frame(String name, int line) {
    return new StackTraceElement("com.acme." + name, "m" + name, name + ".java", line);
  }

  /** {@code top} frames, then {@code rounds} rounds of a cycle of {@code period}, then a base. */
  private static StackTraceElement[] stack(int top, int period, int rounds, int base) {
    List<StackTraceElement> s = new ArrayList<>();
    for (int i = 0; i < top; i++) {
      s.add(frame("Leaf" + i, 1));
    }
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < period; i++) {
        s.add(frame("Cycle" + i, 10 + i));
      }
    }
    for (int i = 0; i < base; i++) {
      s.add(frame("Base" + i, 100 + i));
    }
    return s.toArray(new StackTraceElement[0]);
  }

  @Property(tries = 300)
  void findsTheCycleUnderItsLeafFrames(
      @ForAll @IntRange(min = 0, max = 20) int top,
      @ForAll @IntRange(min = 1, max = 40) int period,
      @ForAll @IntRange(min = 8, max = 60) int rounds,
      @ForAll @IntRange(min = 0, max = 30) int base) {
    StackTraceElement[] s = stack(top, period, rounds, base);
    CycleFinder.Cycle c = CycleFinder.find(s, 4 * period);
    assertThat(c).isNotNull();
    assertThat(c.period()).isEqualTo(period);
    assertThat(c.start()).isEqualTo(top);
    assertThat(c.span()).isEqualTo(period * rounds);
    List<String> round = new ArrayList<>();
    for (StackTraceElement f : c.round()) {
      round.add(f.getClassName());
    }
    assertThat(round).hasSize(period).allMatch(n -> n.startsWith("com.acme.Cycle"));
  }

  @Property(tries = 200)
  void aCycleShorterThanTheSpanAskedForIsNoRunaway(
      @ForAll @IntRange(min = 1, max = 10) int period,
      @ForAll @IntRange(min = 4, max = 20) int rounds) {
    StackTraceElement[] s = stack(2, period, rounds, 5);
    assertThat(CycleFinder.find(s, period * rounds + 1)).isNull();
  }

  @Test
  void aDeepStackWithoutRepetitionHasNoCycle() {
    StackTraceElement[] s = new StackTraceElement[2000];
    for (int i = 0; i < s.length; i++) {
      s[i] = frame("Deep" + i, i);
    }
    assertThat(CycleFinder.find(s, 256)).isNull();
  }

  @Test
  void theSameMethodAtAnotherLineIsAnotherFrame() {
    // a().a() at two call sites alternating: a cycle of two frames, not one
    List<StackTraceElement> s = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      s.add(frame("A", 1));
      s.add(frame("A", 2));
    }
    CycleFinder.Cycle c = CycleFinder.find(s.toArray(new StackTraceElement[0]), 64);
    assertThat(c.period()).isEqualTo(2);
  }

  @Test
  void tooFewRoundsAreNoCycle() {
    assertThat(CycleFinder.find(stack(0, 10, 3, 0), 1)).isNull();
    assertThat(CycleFinder.find(stack(0, 10, 4, 0), 1)).isNotNull();
  }
}
