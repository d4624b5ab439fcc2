package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @Test
  void parsesEveryUnit() {
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "30", "s", "0s", "-1s", "1.5s", "30 s", " 30s", "30S", "1d", "1h30m", "30sec"})
  void rejectsAnythingElse(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("found \"" + text + "\"");
  }

  @Test
  void messagesAreHelpful() {
    assertThatThrownBy(() -> Durations.parse("30"))
        .hasMessage(
            "expected a duration like 250ms, 30s, 5m or 1h, found \"30\" (a number needs a unit: ms, s, m or h)");
    assertThatThrownBy(() -> Durations.parse("0ms"))
        .hasMessage("expected a positive duration, found \"0ms\"");
    assertThatThrownBy(() -> Durations.parse("999999999999999999h"))
        .hasMessage("duration \"999999999999999999h\" is too long");
    assertThatThrownBy(() -> Durations.parse("9999999999999999999s"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void formatReadsBack() {
    for (String s : new String[] {"250ms", "30s", "5m", "1h", "90s", "1500ms"}) {
      assertThat(Durations.format(Durations.parse(s))).isEqualTo(s);
    }
  }
}
