package dev.firebreak.alert;

/**
 * A delivery that failed; {@code retryable} false when sending the same thing again cannot work
 * (HTTP 400).
 */
public final class SinkException extends Exception {
  private final boolean retryable;

  public SinkException(String message, boolean retryable) {
    super(message);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
