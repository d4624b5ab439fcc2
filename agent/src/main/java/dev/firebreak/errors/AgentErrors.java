package dev.firebreak.errors;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code firebreak_agent_errors_total{kind}}, and the one stderr line each error gets. Never
 * throws: reporting an error must not become another error.
 */
public final class AgentErrors {
  private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

  private AgentErrors() {}

  /** Counts an error of this kind and prints {@code firebreak: message} on stderr. */
  public static void report(String kind, String message) {
    count(kind);
    try {
      System.err.println("firebreak: " + message);
    } catch (Throwable ignored) {
      // stderr closed: the count is all we can do
    }
  }

  /** One {@code firebreak:} line on stderr that is news, not an error (a reload that worked). */
  public static void log(String message) {
    try {
      System.err.println("firebreak: " + message);
    } catch (Throwable ignored) {
      // stderr closed
    }
  }

  public static void count(String kind) {
    COUNTS.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  public static Map<String, LongAdder> counts() {
    return COUNTS;
  }

  /** One line for a throwable: its type and message, never a multi-line trace. */
  public static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.replace('\n', ' '));
  }
}
