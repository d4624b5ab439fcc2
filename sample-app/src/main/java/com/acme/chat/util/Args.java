package com.acme.chat.util;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options: {@code --name value}, {@code --name=value} and {@code --flag}; an option
 * given more than once keeps its last value, or all of them ({@link #strings}).
 */
public final class Args {
  /** Thrown for wrong usage; Main prints it and exits with 2. */
  public static final class UsageException extends RuntimeException {
    public UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final Map<String, List<String>> all = new HashMap<>();
  private final Set<String> used = new HashSet<>();
  private final List<String> positional = new ArrayList<>();

  public Args(List<String> args, Set<String> flags) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.startsWith("--")) {
        String name = a.substring(2);
        int eq = name.indexOf('=');
        if (eq >= 0) {
          put(name.substring(0, eq), name.substring(eq + 1));
        } else if (flags.contains(name)) {
          put(name, "true");
        } else {
          if (i + 1 >= args.size()) throw new UsageException("option --" + name + " needs a value");
          put(name, args.get(++i));
        }
      } else {
        positional.add(a);
      }
    }
  }

  private void put(String name, String value) {
    values.put(name, value);
    all.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
  }

  public List<String> positional() {
    return positional;
  }

  public String string(String name, String dflt) {
    used.add(name);
    return values.getOrDefault(name, dflt);
  }

  /** Every value of an option that may be given more than once, in order; empty if none. */
  public List<String> strings(String name) {
    used.add(name);
    return List.copyOf(all.getOrDefault(name, List.of()));
  }

  public int integer(String name, int dflt) {
    String v = string(name, null);
    if (v == null) return dflt;
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " expects an integer, got '" + v + "'");
    }
  }

  public double decimal(String name, double dflt) {
    String v = string(name, null);
    if (v == null) return dflt;
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " expects a number, got '" + v + "'");
    }
  }

  public boolean flag(String name) {
    return Boolean.parseBoolean(string(name, "false"));
  }

  public Duration duration(String name, Duration dflt) {
    String v = string(name, null);
    if (v == null) return dflt;
    try {
      return parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--" + name + ": " + e.getMessage());
    }
  }

  /** Fails on options nobody asked for (call after reading all of them). */
  public void rejectUnknown() {
    for (String k : values.keySet()) {
      if (!used.contains(k)) throw new UsageException("unknown option --" + k);
    }
  }

  /** {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}; a bare number is seconds. */
  public static Duration parseDuration(String v) {
    String s = v.trim();
    try {
      if (s.endsWith("ms"))
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      if (s.endsWith("s"))
        return Duration.ofMillis(
            Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
      if (s.endsWith("m"))
        return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
      if (s.endsWith("h")) return Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1)));
      return Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "expected a duration like 250ms, 30s, 2m; got '" + v + "'");
    }
  }
}
