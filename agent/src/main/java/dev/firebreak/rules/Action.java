package dev.firebreak.rules;

public enum Action {
  /** emit an alert event; the call goes on */
  ALERT,
  /** alert and short-circuit the offending call only */
  LIMIT,
  /** like LIMIT, and open the target's kill switch */
  TRIP;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
