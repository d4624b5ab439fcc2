package dev.firebreak.runtime;

/**
 * The two rare events of the auto-fence's net ({@link dev.firebreak.bootstrap.Net}), which the
 * engine hands on as they come, on the application thread they happened on.
 */
public interface NetEvents {
  /** The calling thread went deep under the net. */
  void deep();

  /** A stack overflow unwinds through a method under the net, on the calling thread. */
  void overflow(Throwable error);
}
