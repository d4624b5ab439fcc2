package dev.firebreak.alert;

import java.util.List;
import java.util.Map;

/**
 * One alert event (SPEC section 4). The stack arrives raw from the application thread and is
 * folded on the alert thread, so the application pays only for capturing it.
 *
 * @param value what was measured: a depth, a count, or milliseconds for latency and duration
 * @param rawStack frames of the offending thread, innermost first, or null
 * @param argument the first argument's description, or null
 */
public record AlertEvent(
    long epochMillis,
    String rule,
    String target,
    String method,
    String action,
    String mode,
    double value,
    double threshold,
    String thread,
    Map<String, String> labels,
    String rulesSha256,
    StackTraceElement[] rawStack,
    ArgumentInfo argument,
    boolean resolved) {

  /** SPEC section 4 {@code argument}: shape, never content unless captured. */
  public record ArgumentInfo(int index, String type, long length, String sha256, String value) {}

  public List<String> foldedStack() {
    return rawStack == null ? List.of() : StackFolder.fold(rawStack, StackFolder.MAX_LINES);
  }
}
