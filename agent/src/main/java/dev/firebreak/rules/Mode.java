package dev.firebreak.rules;

/**
 * enforce: rules act; observe: rules record and alert what they would have done, never
 * short-circuit.
 */
public enum Mode {
  ENFORCE,
  OBSERVE;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
