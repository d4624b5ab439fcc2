package dev.firebreak.admin;

import dev.firebreak.json.Json;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.TargetSummary;

/** The JSON bodies of {@code GET /rules} and {@code GET /targets}. */
public final class AdminJson {
  private AdminJson() {}

  /** The rules in force, their source and sha256, and the file's text (null if it changed). */
  public static String rules(RuleSet rs, String text) {
    if (rs == null) {
      return "{\"rules\":null}";
    }
    StringBuilder b = new StringBuilder("{\"source\":");
    Json.quote(b, rs.source());
    b.append(",\"sha256\":\"").append(rs.sha256()).append("\",\"version\":").append(rs.version());
    b.append(",\"mode\":\"").append(rs.mode().label()).append("\",\"targets\":[");
    for (int i = 0; i < rs.targets().size(); i++) {
      b.append(i > 0 ? "," : "");
      Json.quote(b, rs.targets().get(i).name());
    }
    b.append("],\"content\":");
    Json.quote(b, text);
    return b.append('}').toString();
  }

  /** Each target's kill switch, calls, in-flight calls, depth max and short-circuits. */
  public static String targets(Iterable<TargetSummary> targets) {
    StringBuilder b = new StringBuilder("[");
    boolean first = true;
    for (TargetSummary t : targets) {
      b.append(first ? "" : ",");
      first = false;
      b.append("{\"name\":");
      Json.quote(b, t.name());
      b.append(",\"kill_switch\":\"").append(t.killSwitch()).append("\",\"opened_by\":");
      Json.quote(b, t.openedBy());
      b.append(",\"calls\":").append(t.calls()).append(",\"inflight\":").append(t.inflight());
      b.append(",\"depth_max\":").append(t.depthMax());
      b.append(",\"short_circuits\":{\"limit\":")
          .append(t.shortLimit())
          .append(",\"open\":")
          .append(t.shortOpen());
      b.append(",\"forced\":").append(t.shortForced()).append('}');
      if (t.automatic()) {
        b.append(",\"automatic\":true"); // put up by the auto-fence
      }
      b.append('}');
    }
    return b.append(']').toString();
  }
}
