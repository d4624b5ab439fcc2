package dev.firebreak.rules;

import java.time.Duration;

/**
 * One condition with one action.
 *
 * @param mode null when the rule inherits the file's mode
 */
public record Rule(String name, Condition condition, Action action, Mode mode, Position position) {

  /** observe wins: a rule in observe mode, or in an observe-mode file, never short-circuits. */
  public Mode effectiveMode(Mode fileMode) {
    return (mode == Mode.OBSERVE || fileMode == Mode.OBSERVE) ? Mode.OBSERVE : Mode.ENFORCE;
  }

  public sealed interface Condition {}

  /** A call would enter at depth {@code limit + 1} of the target (or its group) on one thread. */
  public record Depth(int limit) implements Condition {}

  /** The percentile of calls completed in the sliding window is above the threshold. */
  public record Latency(double percentile, Duration above, Duration window) implements Condition {}

  /** One call has been in flight longer than {@code limit}. */
  public record Stuck(Duration limit) implements Condition {}

  /** More than {@code limit} calls of this target inside one call of target {@code of}. */
  public record CallsPerInvocation(long limit, String of) implements Condition {}
}
