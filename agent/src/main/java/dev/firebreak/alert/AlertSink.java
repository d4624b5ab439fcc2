package dev.firebreak.alert;

/**
 * A place alert events go. Each sink gets its own delivery thread and bounded queue in {@link
 * AlertDispatcher}, so {@link #send} may block (a slow endpoint only delays its own events).
 */
public interface AlertSink {
  /** The {@code sink} label of {@code firebreak_alerts_total}. */
  String name();

  /**
   * Delivers one event; throws to report a failure ({@link SinkException} says whether a retry can
   * help).
   */
  void send(AlertEvent event) throws Exception;

  /**
   * Where the events go ({@code "webhook http://..."}). A reload that asks for the same destination
   * keeps the running sink, its queue and its state, and hands it the new settings through {@link
   * #reconfigure}.
   */
  default String destination() {
    return name();
  }

  /**
   * {@link #destination()} as it may be printed in a {@code firebreak:} line: without the secrets a
   * URL may carry (user-info, query).
   */
  default String printableDestination() {
    return destination();
  }

  /**
   * Takes the settings of {@code next} (same destination, from a reload); keeps this sink's state.
   */
  default void reconfigure(AlertSink next) {}

  /** How often {@link #refresh} should run on the sink's thread; 0: never. */
  default long refreshMillis() {
    return 0;
  }

  /**
   * Periodic work on the sink's thread between events (Alertmanager: re-post alerts still firing).
   */
  default void refresh() throws Exception {}

  default void close() {}
}
