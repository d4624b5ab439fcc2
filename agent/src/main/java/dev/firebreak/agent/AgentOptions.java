package dev.firebreak.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code -javaagent:firebreak-agent.jar=rules=/path,port=9464,host=127.0.0.1}: key=value pairs
 * separated by commas. {@code rules} may also come from {@code FIREBREAK_RULES}. {@code detach}
 * (from {@code attach --detach}) removes every rule from an agent already running. {@code
 * startup=background} (the default) starts the agent on its own thread and instruments the classes
 * loaded meanwhile by retransformation; {@code startup=wait} makes a class a rule may match wait
 * for the instrumentation while it loads, so it is watched from its first call.
 */
public record AgentOptions(
    String rules,
    Integer port,
    String host,
    boolean detach,
    boolean waitAtStartup,
    Map<String, String> unknown) {

  public static AgentOptions parse(String args, Map<String, String> env) {
    String rules = null;
    Integer port = null;
    String host = null;
    boolean detach = false;
    boolean waitAtStartup = false;
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
            if (value.equals("wait") || value.equals("background")) {
              waitAtStartup = value.equals("wait");
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
    return new AgentOptions(rules, port, host, detach, waitAtStartup, Map.copyOf(unknown));
  }
}
