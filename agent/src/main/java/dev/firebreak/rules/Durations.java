package dev.firebreak.rules;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The durations of a rules file: a positive integer and one unit, {@code 250ms}, {@code 30s},
 * {@code 5m}, {@code 1h}.
 */
public final class Durations {
  private static final Pattern FORMAT = Pattern.compile("([0-9]{1,18})(ms|s|m|h)");

  private Durations() {}

  /**
   * @throws IllegalArgumentException with a message saying what was expected and what was found
   */
  public static Duration parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException(
          "expected a duration like 250ms, 30s, 5m or 1h, found nothing");
    }
    Matcher m = FORMAT.matcher(text);
    if (!m.matches()) {
      String hint = text.matches("[0-9]+") ? " (a number needs a unit: ms, s, m or h)" : "";
      throw new IllegalArgumentException(
          "expected a duration like 250ms, 30s, 5m or 1h, found " + Text.quote(text) + hint);
    }
    long amount = Long.parseLong(m.group(1));
    if (amount <= 0) {
      throw new IllegalArgumentException("expected a positive duration, found " + Text.quote(text));
    }
    try {
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration " + Text.quote(text) + " is too long");
    }
  }

  /** The shortest text {@link #parse} reads back as {@code d}; for positive whole milliseconds. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
