package dev.firebreak.alert;

import java.util.List;
import java.util.Map;

/** Just enough JSON writing for alert events; the agent carries no JSON library. */
public final class Json {
  private Json() {}

  public static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2);
    quote(b, s);
    return b.toString();
  }

  public static void quote(StringBuilder b, String s) {
    if (s == null) {
      b.append("null");
      return;
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }

  public static void number(StringBuilder b, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      b.append("null");
    } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      b.append((long) v);
    } else {
      b.append(v);
    }
  }

  public static void stringMap(StringBuilder b, Map<String, String> map) {
    b.append('{');
    boolean first = true;
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(map).entrySet()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      quote(b, e.getKey());
      b.append(':');
      quote(b, e.getValue());
    }
    b.append('}');
  }

  public static void stringList(StringBuilder b, List<String> list) {
    b.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      quote(b, list.get(i));
    }
    b.append(']');
  }

  /** The SPEC section 4 event as one line of JSON. */
  public static String event(AlertEvent e) {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"time\":");
    quote(b, java.time.Instant.ofEpochMilli(e.epochMillis()).toString());
    b.append(",\"rule\":");
    quote(b, e.rule());
    b.append(",\"target\":");
    quote(b, e.target());
    b.append(",\"method\":");
    quote(b, e.method());
    b.append(",\"action\":");
    quote(b, e.action());
    b.append(",\"mode\":");
    quote(b, e.mode());
    b.append(",\"value\":");
    number(b, e.value());
    b.append(",\"threshold\":");
    number(b, e.threshold());
    b.append(",\"thread\":");
    quote(b, e.thread());
    b.append(",\"labels\":");
    stringMap(b, e.labels());
    b.append(",\"rules_sha256\":");
    quote(b, e.rulesSha256());
    b.append(",\"stack\":");
    stringList(b, e.foldedStack());
    AlertEvent.ArgumentInfo a = e.argument();
    if (a != null) {
      b.append(",\"argument\":{\"index\":").append(a.index()).append(",\"type\":");
      quote(b, a.type());
      if (a.length() >= 0) {
        b.append(",\"length\":").append(a.length());
      }
      if (a.sha256() != null) {
        b.append(",\"sha256\":");
        quote(b, a.sha256());
      }
      if (a.value() != null) {
        b.append(",\"value\":");
        quote(b, a.value());
      }
      b.append('}');
    }
    if (e.resolved()) {
      b.append(",\"resolved\":true");
    }
    b.append('}');
    return b.toString();
  }
}
