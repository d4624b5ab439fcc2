package dev.firebreak.rules;

/** A place in a rules file, 1-based, for error messages and alert evidence. */
public record Position(String file, int line, int column) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + column;
  }
}
