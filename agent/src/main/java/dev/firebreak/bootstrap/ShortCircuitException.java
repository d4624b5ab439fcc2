package dev.firebreak.bootstrap;

/**
 * Thrown into application code by a short-circuited call whose target's fallback is {@code throw}:
 * the one exception Firebreak ever throws on purpose. In the bootstrap class loader so every
 * application class loader can catch it by type.
 */
public final class ShortCircuitException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ShortCircuitException(String message) {
    super(message);
  }
}
