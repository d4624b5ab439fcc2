package dev.firebreak.rules;

import java.util.List;
import java.util.stream.Collectors;

/** The one error type of the rules parser: every problem found, in file order. */
public final class RulesException extends Exception {
  private final List<RuleError> errors;

  public RulesException(List<RuleError> errors) {
    super(
        errors.stream().map(RuleError::toString).collect(Collectors.joining("\n")),
        null,
        false,
        false);
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a RulesException needs at least one error");
    }
    this.errors = List.copyOf(errors);
  }

  public List<RuleError> errors() {
    return errors;
  }
}
