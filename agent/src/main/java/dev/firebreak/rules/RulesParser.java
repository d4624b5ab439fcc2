package dev.firebreak.rules;

import java.nio.file.Path;
import java.util.List;

/** TEMPORARY stub until the parser lands. */
public final class RulesParser {
  public static RuleSet parse(Path file) throws RulesException {
    throw new RulesException(List.of(new RuleError(file.toString(), 1, 1, "parser not ready")));
  }
}
