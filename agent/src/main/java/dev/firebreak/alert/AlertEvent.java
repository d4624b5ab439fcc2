package dev.firebreak.alert;

import dev.firebreak.json.Json;
import java.util.List;
import java.util.Map;

/**
 * One alert event (SPEC section 4). The stack arrives raw from the application thread and is folded
 * on the alert thread, so the application pays only for capturing it.
 *
 * @param value what was measured: a depth, a count, or milliseconds for latency and duration
 * @param rawStack frames of the offending thread, innermost first, or null
 * @param argument the first argument's description, or null
 * @param snippet for an auto-fence, the rules that would name the fence permanently; else null
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
    boolean resolved,
    String snippet) {

  /** An event of a rule (no snippet). */
  public AlertEvent(
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
    this(
        epochMillis,
        rule,
        target,
        method,
        action,
        mode,
        value,
        threshold,
        thread,
        labels,
        rulesSha256,
        rawStack,
        argument,
        resolved,
        null);
  }

  /** SPEC section 4 {@code argument}: shape, never content unless captured. */
  public record ArgumentInfo(int index, String type, long length, String sha256, String value) {}

  public List<String> foldedStack() {
    return rawStack == null ? List.of() : StackFolder.fold(rawStack, StackFolder.MAX_LINES);
  }

  /** The event as one line of JSON, as every sink gets it (SPEC section 4). */
  public String toJson() {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"time\":");
    Json.quote(b, java.time.Instant.ofEpochMilli(epochMillis()).toString());
    b.append(",\"rule\":");
    Json.quote(b, rule());
    b.append(",\"target\":");
    Json.quote(b, target());
    b.append(",\"method\":");
    Json.quote(b, method());
    b.append(",\"action\":");
    Json.quote(b, action());
    b.append(",\"mode\":");
    Json.quote(b, mode());
    b.append(",\"value\":");
    Json.number(b, value());
    b.append(",\"threshold\":");
    Json.number(b, threshold());
    b.append(",\"thread\":");
    Json.quote(b, thread());
    b.append(",\"labels\":");
    Json.stringMap(b, labels());
    b.append(",\"rules_sha256\":");
    Json.quote(b, rulesSha256());
    b.append(",\"stack\":");
    Json.stringList(b, foldedStack());
    ArgumentInfo a = argument();
    if (a != null) {
      b.append(",\"argument\":{\"index\":").append(a.index()).append(",\"type\":");
      Json.quote(b, a.type());
      if (a.length() >= 0) {
        b.append(",\"length\":").append(a.length());
      }
      if (a.sha256() != null) {
        b.append(",\"sha256\":");
        Json.quote(b, a.sha256());
      }
      if (a.value() != null) {
        b.append(",\"value\":");
        Json.quote(b, a.value());
      }
      b.append('}');
    }
    if (snippet() != null) {
      b.append(",\"snippet\":");
      Json.quote(b, snippet());
    }
    if (resolved()) {
      b.append(",\"resolved\":true");
    }
    b.append('}');
    return b.toString();
  }
}
