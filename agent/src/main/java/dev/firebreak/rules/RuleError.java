package dev.firebreak.rules;

/**
 * One problem in a rules file: {@code file:line:column: message}. Lines and columns are 1-based.
 */
public record RuleError(String file, int line, int column, String message) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + column + ": " + message;
  }
}
