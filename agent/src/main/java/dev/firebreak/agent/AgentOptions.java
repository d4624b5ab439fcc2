package dev.firebreak.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code -javaagent:firebreak-agent.jar=rules=/path,port=9464,host=127.0.0.1}: key=value pairs
 * separated by commas. {@code rules} may also come from {@code FIREBREAK_RULES}. {@code detach}
 * (from {@code attach --detach}) removes every rule from an agent already running. {@code startup}
 * is one of {@link Startup}'s names.
 */
public record AgentOptions(
    String rules,
    Integer port,
    String host,
    boolean detach,
    Startup startup,
    Map<String, String> unknown) {

  /** How premain starts the agent. */
  public enum Startup {
    /**
     * The default: a method a rule names never runs unwatched once premain has returned. A class a
     * rule may match waits, while it loads, until its instrumentation is ready.
     */
    WATCHED,
    /**
     * Opt-in: nothing waits; the agent first lets the application start, and calls made before it
     * is ready are not watched (it says so at start).
     */
    LAZY;

    /** {@code watched} (or its older name {@code wait}), {@code lazy} (or {@code background}). */
    static Startup named(String value) {
      switch (value) {
        case "watched":
        case "wait":
          return WATCHED;
        case "lazy":
        case "background":
          return LAZY;
        default:
          return null;
      }
    }
  }

  public static AgentOptions parse(String args, Map<String, String> env) {
    String rules = null;
    Integer port = null;
    String host = null;
    boolean detach = false;
    Startup startup = Startup.WATCHED;
    Map<String, String> unknown = new LinkedHashMap<>();
    if (args != null && !args.isBlank()) {
      for (String pair : args.split(",")) {
        if (pair.isBlank()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = (eq < 0 ? pair : pair.substring(0, eq)).trim();
        String value = eq < 0 ? "" : pair.substring(eq + 1).trim();
        switch (key) {
          case "rules":
            rules = value;
            break;
          case "port":
            try {
              port = Integer.parseInt(value);
              if (port < 0 || port > 65535) {
                throw new NumberFormatException();
              }
            } catch (NumberFormatException e) {
              unknown.put(key, value);
              port = null;
            }
            break;
          case "host":
            host = value;
            break;
          case "detach":
            detach = value.isEmpty() || Boolean.parseBoolean(value);
            break;
          case "startup":
            Startup named = Startup.named(value);
            if (named != null) {
              startup = named;
            } else {
              unknown.put(key, value);
            }
            break;
          default:
            unknown.put(key, value);
        }
      }
    }
    if (rules == null || rules.isEmpty()) {
      String fromEnv = env.get("FIREBREAK_RULES");
      rules = fromEnv == null || fromEnv.isBlank() ? null : fromEnv.trim();
    }
    return new AgentOptions(rules, port, host, detach, startup, Map.copyOf(unknown));
  }
}
