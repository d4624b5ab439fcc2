package dev.firebreak.cli;

import dev.firebreak.rules.Action;
import dev.firebreak.rules.Durations;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleError;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.rules.Target;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code export-prometheus-rules [--selector MATCHERS] [--window DURATION] RULES.yaml}: a
 * Prometheus rules file (alerting and recording rules) for the fleet, on stdout.
 *
 * <p>What it writes, for the rules file's targets only:
 *
 * <ul>
 *   <li>recording rules: p99 call duration per target, per instance ({@code
 *       instance_target:firebreak_call_duration_seconds:p99_5m}) and across instances ({@code
 *       target:firebreak_call_duration_seconds:p99_5m});
 *   <li>one alert per Firebreak rule ({@code Firebreak} + the rule's name in CamelCase) on {@code
 *       increase(firebreak_rule_triggers_total[5m]) > 0}, one series (so one alert) per instance;
 *       severity critical for trip and limit, warning for alert and for observe-mode rules (as the
 *       agent's own Alertmanager sink labels its events);
 *   <li>{@code FirebreakKillSwitchOpen} on {@code firebreak_kill_switch_state} (open or half-open
 *       within the window), and {@code FirebreakRulesReloadFailed} on {@code
 *       firebreak_rules_reloads_total{result="failure"}}.
 * </ul>
 *
 * Every rule carries the file's {@code alerts.labels}. The YAML is written by hand (no YAML library
 * in the output path): every string is quoted.
 */
public final class ExportPrometheusRulesCommand {
  public static final int OK = 0;
  public static final int INVALID = 1;
  public static final int USAGE = 2;

  static final String USAGE_TEXT =
      String.join(
          "\n",
          "usage: java -jar firebreak-agent.jar export-prometheus-rules [--selector MATCHERS] [--window DURATION] RULES.yaml",
          "  writes Prometheus alerting and recording rules for RULES.yaml on stdout",
          "  --selector MATCHERS   label matchers added to every query, e.g. 'job=\"chat\"'",
          "                        (use it when several services with Firebreak share one Prometheus)",
          "  --window DURATION     range of increase(), rate() and max_over_time(), default 5m");

  /** Recording rule names: the dashboard (rules/firebreak-dashboard.json) queries these. */
  static final String P99_PER_INSTANCE = "instance_target:firebreak_call_duration_seconds:p99_";

  static final String P99_ACROSS_INSTANCES = "target:firebreak_call_duration_seconds:p99_";

  private static final Pattern PROM_DURATION = Pattern.compile("([0-9]+(ms|s|m|h|d|w|y))+");
  private static final Pattern MATCHER =
      Pattern.compile(
          "\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*(=|!=|=~|!~)\\s*\"(?:[^\"\\\\\\n]|\\\\.)*\"\\s*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  private ExportPrometheusRulesCommand() {}

  public static int run(List<String> args, PrintStream out, PrintStream err) {
    String selector = "";
    String window = "5m";
    String file = null;
    List<String> a = args == null ? List.of() : args;
    for (int i = 0; i < a.size(); i++) {
      String arg = a.get(i);
      if (arg.equals("-h") || arg.equals("--help")) {
        out.println(USAGE_TEXT);
        return OK;
      }
      String value = null;
      String option = null;
      if (arg.equals("--selector") || arg.equals("--window")) {
        if (i + 1 >= a.size()) {
          return usage(err, arg + " needs a value");
        }
        option = arg;
        value = a.get(++i);
      } else if (arg.startsWith("--selector=") || arg.startsWith("--window=")) {
        option = arg.substring(0, arg.indexOf('='));
        value = arg.substring(arg.indexOf('=') + 1);
      } else if (arg.startsWith("-") && !arg.equals("-")) {
        return usage(err, "unknown option '" + arg + "'");
      } else if (file != null) {
        return usage(err, "one rules file only, found '" + file + "' and '" + arg + "'");
      } else {
        file = arg;
      }
      if (option != null && option.equals("--selector")) {
        String s = value.trim();
        if (s.startsWith("{") && s.endsWith("}")) {
          s = s.substring(1, s.length() - 1).trim();
        }
        if (s.endsWith(",")) {
          s = s.substring(0, s.length() - 1);
        }
        if (!s.isEmpty() && !validMatchers(s)) {
          return usage(
              err,
              "--selector expects Prometheus label matchers like 'job=\"chat\",env!=\"dev\"', found '"
                  + value
                  + "'");
        }
        selector = s.trim();
      } else if (option != null) {
        if (!PROM_DURATION.matcher(value).matches()
            || value.replaceAll("[^0-9]", "").matches("0+")) {
          return usage(
              err,
              "--window expects a positive Prometheus duration like 5m or 90s, found '"
                  + value
                  + "'");
        }
        window = value;
      }
    }
    if (file == null) {
      return usage(err, null);
    }
    RuleSet rules;
    try {
      rules = RulesParser.parse(Path.of(file));
    } catch (RulesException e) {
      for (RuleError error : e.errors()) {
        err.println(error);
      }
      err.flush();
      return INVALID;
    } catch (InvalidPathException e) {
      err.println(new RuleError(file, 1, 1, "cannot read the rules file: invalid path"));
      return INVALID;
    }
    out.print(export(rules, file, selector, window, err));
    out.flush();
    return OK;
  }

  private static int usage(PrintStream err, String problem) {
    if (problem != null) {
      err.println("firebreak: export-prometheus-rules: " + problem);
    }
    err.println(USAGE_TEXT);
    return USAGE;
  }

  private static boolean validMatchers(String s) {
    // split on commas outside quotes
    List<String> parts = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\' && i + 1 < s.length()) {
        cur.append(c).append(s.charAt(++i));
        continue;
      }
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        parts.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    parts.add(cur.toString());
    if (quoted) {
      return false;
    }
    for (String p : parts) {
      if (!MATCHER.matcher(p).matches()) {
        return false;
      }
    }
    return true;
  }

  /** The Prometheus rules file for {@code rules}; warnings (skipped labels) go to {@code err}. */
  static String export(
      RuleSet rules, String sourceName, String selector, String window, PrintStream err) {
    String stem = groupStem(sourceName);
    Map<String, String> fileLabels = new LinkedHashMap<>();
    for (Map.Entry<String, String> e :
        new java.util.TreeMap<>(rules.alerts().labels()).entrySet()) {
      String name = e.getKey();
      if (!LABEL_NAME.matcher(name).matches() || name.startsWith("__")) {
        err.println(
            "firebreak: export-prometheus-rules: label '"
                + name
                + "' is not usable in Prometheus (reserved or invalid); left out");
        continue;
      }
      fileLabels.put(name, e.getValue());
    }
    String extra = selector.isEmpty() ? "" : "," + selector;

    StringBuilder y = new StringBuilder();
    y.append("# Prometheus rules for the Firebreak rules file ")
        .append(oneLine(sourceName))
        .append('\n');
    y.append("# (sha256 ").append(rules.sha256()).append("), written by\n");
    y.append("#   java -jar firebreak-agent.jar export-prometheus-rules")
        .append(selector.isEmpty() ? "" : " --selector '" + oneLine(selector) + "'")
        .append(window.equals("5m") ? "" : " --window " + window)
        .append(' ')
        .append(oneLine(sourceName))
        .append('\n');
    y.append("# Re-export when the rules file changes; check with: promtool check rules FILE\n");
    y.append("groups:\n");

    List<Target> targets = rules.targets();
    if (!targets.isEmpty()) {
      String targetMatcher =
          "target=~" + promString(String.join("|", targets.stream().map(Target::name).toList()));
      String buckets =
          "firebreak_call_duration_seconds_bucket{" + targetMatcher + extra + "}[" + window + "]";

      y.append("  - name: ").append(q(stem + "-recording")).append('\n');
      y.append("    rules:\n");
      y.append("      # p99 call duration of each target on each instance\n");
      y.append("      - record: ").append(P99_PER_INSTANCE).append(window).append('\n');
      y.append("        expr: ")
          .append(q("histogram_quantile(0.99, sum without (method) (rate(" + buckets + ")))"))
          .append('\n');
      labels(y, fileLabels, null, false);
      y.append("      # p99 call duration of each target across all instances\n");
      y.append("      - record: ").append(P99_ACROSS_INSTANCES).append(window).append('\n');
      y.append("        expr: ")
          .append(
              q("histogram_quantile(0.99, sum without (instance, method) (rate(" + buckets + ")))"))
          .append('\n');
      labels(y, fileLabels, null, false);
    }

    y.append("  - name: ").append(q(stem + "-alerts")).append('\n');
    y.append("    rules:\n");
    Set<String> alertNames = new HashSet<>();
    alertNames.add("FirebreakKillSwitchOpen");
    alertNames.add("FirebreakRulesReloadFailed");
    for (Target t : targets) {
      for (Rule r : t.rules()) {
        String alert = uniqueAlertName(r.name(), alertNames);
        Mode mode = r.effectiveMode(rules.mode());
        // as the agent's own Alertmanager sink does: critical when the rule short-circuits calls
        String severity =
            mode == Mode.ENFORCE && r.action() != Action.ALERT ? "critical" : "warning";
        String condition = describe(r.condition());
        String effect = effect(r.action(), mode, t, rules);
        y.append("      # rule ")
            .append(r.name())
            .append(" of target ")
            .append(t.name())
            .append(": ")
            .append(oneLine(condition))
            .append(", ")
            .append(r.action().label())
            .append(mode == Mode.OBSERVE ? " (observe)" : "")
            .append('\n');
        y.append("      - alert: ").append(alert).append('\n');
        y.append("        expr: ")
            .append(
                q(
                    "increase(firebreak_rule_triggers_total{rule="
                        + promString(r.name())
                        + ",target="
                        + promString(t.name())
                        + extra
                        + "}["
                        + window
                        + "]) > 0"))
            .append('\n');
        labels(y, fileLabels, severity, true);
        y.append("        annotations:\n");
        y.append("          summary: ")
            .append(
                q(
                    template("Firebreak rule " + r.name() + " fired on " + t.name() + " at ")
                        + "{{ $labels.instance }}"))
            .append('\n');
        y.append("          description: ")
            .append(
                q(
                    template(
                            t.name()
                                + " ("
                                + t.classGlob()
                                + "."
                                + t.methodGlob()
                                + "): "
                                + condition
                                + ". ")
                        + "{{ $value | humanize }} trigger(s) in the last "
                        + window
                        + " on {{ $labels.instance }}, action "
                        + "{{ $labels.action }}, mode {{ $labels.mode }}. "
                        + template(effect)))
            .append('\n');
      }
    }
    if (!targets.isEmpty()) {
      String targetMatcher =
          "target=~" + promString(String.join("|", targets.stream().map(Target::name).toList()));
      y.append(
          "      # a kill switch that was open (1) or half-open (2) at some point in the window\n");
      y.append("      - alert: FirebreakKillSwitchOpen\n");
      y.append("        expr: ")
          .append(
              q(
                  "max_over_time(firebreak_kill_switch_state{"
                      + targetMatcher
                      + extra
                      + "}["
                      + window
                      + "]) > 0"))
          .append('\n');
      labels(y, fileLabels, "warning", true);
      y.append("        annotations:\n");
      y.append("          summary: ")
          .append(q("Firebreak kill switch of {{ $labels.target }} open at {{ $labels.instance }}"))
          .append('\n');
      y.append("          description: ")
          .append(
              q(
                  "The kill switch of target {{ $labels.target }} on {{ $labels.instance }} was open or half-open in the last "
                      + window
                      + " (highest state {{ $value }}: 1 open, 2 half-open): its calls return the target's fallback. "
                      + template(
                          "It stays open for "
                              + Durations.format(rules.killSwitch().openFor())
                              + ", then "
                              + rules.killSwitch().halfOpenCalls()
                              + " trial calls decide whether it closes.")))
          .append('\n');
    }
    y.append(
        "      # a rules file that failed validation on reload (the last good rules stay in force)\n");
    y.append("      - alert: FirebreakRulesReloadFailed\n");
    y.append("        expr: ")
        .append(
            q(
                "increase(firebreak_rules_reloads_total{result=\"failure\""
                    + extra
                    + "}["
                    + window
                    + "]) > 0"))
        .append('\n');
    labels(y, fileLabels, "warning", true);
    y.append("        annotations:\n");
    y.append("          summary: ")
        .append(q("Firebreak rules reload failed at {{ $labels.instance }}"))
        .append('\n');
    y.append("          description: ")
        .append(
            q(
                "A changed rules file on {{ $labels.instance }} failed validation ({{ $value | humanize }} failure(s) in the last "
                    + window
                    + "); the last good rules stay in force. Run 'java -jar firebreak-agent.jar validate' on the file, "
                    + "and see the service's stderr."))
        .append('\n');
    return y.toString();
  }

  /** Alerting rules' labels are Go templates, recording rules' are not. */
  private static void labels(
      StringBuilder y, Map<String, String> fileLabels, String severity, boolean templated) {
    Map<String, String> all = new LinkedHashMap<>();
    if (severity != null) {
      all.put("severity", severity);
    }
    all.putAll(fileLabels); // the file's labels win (an SRE may set severity for the whole service)
    if (all.isEmpty()) {
      return;
    }
    y.append("        labels:\n");
    for (Map.Entry<String, String> e : all.entrySet()) {
      y.append("          ")
          .append(e.getKey())
          .append(": ")
          .append(q(templated ? template(e.getValue()) : e.getValue()))
          .append('\n');
    }
  }

  /** The alert name for a rule: {@code Firebreak} + CamelCase, made unique. */
  static String uniqueAlertName(String ruleName, Set<String> taken) {
    StringBuilder b = new StringBuilder("Firebreak");
    for (String part : ruleName.split("-")) {
      if (!part.isEmpty()) {
        b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    String name = b.toString();
    String candidate = name;
    for (int i = 2; !taken.add(candidate); i++) {
      candidate = name + "_" + i;
    }
    return candidate;
  }

  private static String describe(Rule.Condition c) {
    if (c instanceof Rule.Depth d) {
      return "call depth above " + d.limit();
    } else if (c instanceof Rule.Latency l) {
      return "p"
          + trim(l.percentile())
          + " latency above "
          + Durations.format(l.above())
          + " over "
          + Durations.format(l.window());
    } else if (c instanceof Rule.Stuck s) {
      return "a call in flight longer than " + Durations.format(s.limit());
    } else if (c instanceof Rule.CallsPerInvocation p) {
      return "more than " + p.limit() + " calls inside one call of " + p.of();
    }
    return String.valueOf(c);
  }

  private static String effect(Action action, Mode mode, Target t, RuleSet rules) {
    if (mode == Mode.OBSERVE) {
      return "Observe mode: nothing was short-circuited; this is what the rule would have done.";
    }
    switch (action) {
      case ALERT:
        return "Alert only: the calls went on.";
      case LIMIT:
        return "The offending calls returned the fallback ("
            + t.fallback()
            + "); later calls went on.";
      case TRIP:
      default:
        return "The offending call returned the fallback ("
            + t.fallback()
            + ") and the kill switch opened for "
            + Durations.format(rules.killSwitch().openFor())
            + ": every call of "
            + t.name()
            + " returns the fallback meanwhile.";
    }
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static String groupStem(String sourceName) {
    String base;
    try {
      Path p = Path.of(sourceName).getFileName();
      base = p == null ? sourceName : p.toString();
    } catch (InvalidPathException e) {
      base = sourceName;
    }
    base =
        base.replaceFirst("\\.(ya?ml)$", "")
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9_.-]+", "-");
    return "firebreak-" + (base.isEmpty() ? "rules" : base);
  }

  /** A PromQL string literal. */
  static String promString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** Literal text inside a Prometheus template (labels and annotations are Go templates). */
  static String template(String s) {
    return s.replace("{{", "{{ \"{{\" }}");
  }

  private static String oneLine(String s) {
    return s.replaceAll("[\\p{Cntrl}]", "?");
  }

  /** A YAML scalar: single-quoted when it can be, else double-quoted with escapes. */
  static String q(String s) {
    boolean plain = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (c < 0x20
          || c == 0x7f
          || (c >= 0x80 && c < 0xa0)
          || c == '\u2028'
          || c == '\u2029'
          || c == '\ufeff'
          || Character.isSurrogate(c)) {
        plain = false;
        break;
      }
    }
    if (plain) {
      return "'" + s.replace("'", "''") + "'";
    }
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c == '\t') {
        b.append("\\t");
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (c < 0x20
          || c == 0x7f
          || (c >= 0x80 && c < 0xa0)
          || c == '\u2028'
          || c == '\u2029'
          || c == '\ufeff'
          || Character.isSurrogate(c)) {
        b.append(String.format("\\u%04X", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
