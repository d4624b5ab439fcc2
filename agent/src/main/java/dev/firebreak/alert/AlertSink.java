package dev.firebreak.alert;

/** A place alert events go. Called only on the alert thread; may block (it is the agent's thread). */
public interface AlertSink {
  /** The {@code sink} label of {@code firebreak_alerts_total}. */
  String name();

  /** Delivers one event; throws to report a failure. */
  void send(AlertEvent event) throws Exception;

  default void close() {}
}
