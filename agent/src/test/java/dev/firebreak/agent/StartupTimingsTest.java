package dev.firebreak.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class StartupTimingsTest {

  /** The published figures read as they did when {@code String.format("%.3f")} wrote them. */
  @Property
  void millisAreWhatPercentThreeFWouldPrint(
      @ForAll @LongRange(min = 0, max = 100_000_000_000L) long nanos) {
    assertThat(StartupTimings.millis(nanos))
        .isEqualTo(String.format(Locale.ROOT, "%.3f", nanos / 1e6));
  }

  @Test
  void millisAtTheEdgesOfTheirDigits() {
    assertThat(StartupTimings.millis(0)).isEqualTo("0.000");
    assertThat(StartupTimings.millis(499)).isEqualTo("0.000");
    assertThat(StartupTimings.millis(500)).isEqualTo("0.001");
    assertThat(StartupTimings.millis(9_999_500)).isEqualTo("10.000");
    assertThat(StartupTimings.millis(1_234_567_890)).isEqualTo("1234.568");
    assertThat(StartupTimings.millis(-2_500_000)).isEqualTo("-2.500");
  }

  @Test
  void equalTimingsAreEqualAndAChangedOneIsNot() {
    StartupTimings a = timings(7);
    assertThat(a).isEqualTo(timings(7)).hasSameHashCodeAs(timings(7));
    assertThat(a).isNotEqualTo(timings(8)).isNotEqualTo(null);
  }

  private static StartupTimings timings(long pendingWaits) {
    return new StartupTimings(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, pendingWaits);
  }
}
