package com.acme.chat.replay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The samples of a Prometheus text exposition ({@code /metrics}): {@code name{label="value",...}
 * 1.0} lines; comments and blank lines are skipped. Enough for reading an agent's metrics from
 * outside, as a scraper would.
 */
public final class PromText {
  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public String label(String key) {
      return labels.get(key);
    }
  }

  private final List<Sample> samples;

  private PromText(List<Sample> samples) {
    this.samples = samples;
  }

  public static PromText parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      Sample s = parseLine(line);
      if (s != null) out.add(s);
    }
    return new PromText(out);
  }

  /** A sample line, or null if it is not one. */
  static Sample parseLine(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    if (space < 0) return null;
    Map<String, String> labels = new LinkedHashMap<>();
    String name;
    int rest;
    if (brace >= 0 && brace < space) {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (i < line.length() && line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') return null;
        String key = line.substring(i, eq).strip();
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (; j < line.length() && line.charAt(j) != '"'; j++) {
          char c = line.charAt(j);
          if (c == '\\' && j + 1 < line.length()) {
            char e = line.charAt(++j);
            value.append(e == 'n' ? '\n' : e);
          } else {
            value.append(c);
          }
        }
        if (j >= line.length()) return null;
        labels.put(key, value.toString());
        i = j + 1;
        if (i < line.length() && line.charAt(i) == ',') i++;
      }
      if (i >= line.length()) return null;
      rest = i + 1;
    } else {
      name = line.substring(0, space);
      rest = space;
    }
    String[] valueAndTime = line.substring(rest).strip().split("\\s+");
    try {
      return new Sample(name, labels, Double.parseDouble(valueAndTime[0]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  public List<Sample> samples() {
    return samples;
  }

  /** Every sample of metric {@code name}. */
  public List<Sample> all(String name) {
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) if (s.name().equals(name)) out.add(s);
    return out;
  }

  /**
   * {@code name}'s samples as label value of {@code key} -> sample value (e.g. target -> state).
   */
  public Map<String, Double> byLabel(String name, String key) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Sample s : all(name)) out.put(s.label(key), s.value());
    return out;
  }

  /** The value of the first sample of {@code name} with label {@code key=value}; NaN if none. */
  public double value(String name, String key, String value) {
    for (Sample s : all(name)) if (value.equals(s.label(key))) return s.value();
    return Double.NaN;
  }
}
