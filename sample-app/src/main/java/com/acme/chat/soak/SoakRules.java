package com.acme.chat.soak;

import com.acme.chat.replay.RulesCopy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The rules files the soak writes: the SRE's file made fit for the run (its own metrics port, alert
 * log, Alertmanager, admin token, a short open-for and reload interval), valid variants of it, one
 * without the renderer target, and invalid ones the agent must reject.
 */
final class SoakRules {
  static final String RENDERER = "emoji-render";
  static final String LOOKUP = "emoji-lookup";

  /** One file's content; {@code valid} says what the agent must make of it. */
  record Variant(String name, String text, boolean valid) {
    String sha256() {
      return SoakRules.sha256(text);
    }
  }

  private final Map<String, Object> base;

  /**
   * @param original the SRE's rules file (it must name the renderer target)
   */
  @SuppressWarnings("unchecked")
  SoakRules(
      String original,
      Path alertLog,
      int metricsPort,
      URI alertmanager,
      Path tokenFile,
      Duration openFor,
      Duration reloadInterval) {
    Map<String, Object> r = RulesCopy.parse(original);
    RulesCopy.forRun(r, alertLog, metricsPort);
    Map<String, Object> alerts = (Map<String, Object>) r.get("alerts");
    alerts.put("alertmanager", alertmanager.toString());
    alerts.put(
        "repeat-interval", "5s"); // more notifications, so that some meet the Alertmanager outage
    r.put("reload", map("watch", true, "interval", duration(reloadInterval)));
    r.put("admin", map("token-file", tokenFile.toAbsolutePath().toString()));
    Map<String, Object> ks =
        (Map<String, Object>) r.computeIfAbsent("kill-switch", k -> new LinkedHashMap<>());
    ks.put("open-for", duration(openFor));
    if (target(r, RENDERER) == null || target(r, LOOKUP) == null) {
      throw new IllegalArgumentException(
          "the rules file must name the targets " + RENDERER + " and " + LOOKUP);
    }
    this.base = r;
  }

  Variant base() {
    return variant("base", true, r -> {});
  }

  /** Valid files that all keep the renderer target, {@link #base()} first; no two alike. */
  List<Variant> valid() {
    List<Variant> out = new ArrayList<>();
    out.add(base());
    out.add(variant("fewer half-open calls", true, r -> killSwitch(r).put("half-open-calls", 3)));
    out.add(
        variant(
            "other thresholds",
            true,
            r -> {
              for (Map<String, Object> t : targets(r)) {
                for (Map<String, Object> rule : rules(t)) {
                  if (rule.get("latency") instanceof Map<?, ?> l) cast(l).put("above", "25ms");
                  if (rule.containsKey("duration")) rule.put("duration", "3s");
                  if (rule.get("calls-per-invocation") instanceof Map<?, ?> c)
                    cast(c).put("limit", 8000);
                }
              }
            }));
    out.add(
        variant(
            "an observe-mode shadow rule",
            true,
            r ->
                rules(target(r, RENDERER))
                    .add(
                        map(
                            "name",
                            "emoji-shadow",
                            "depth",
                            16,
                            "action",
                            "trip",
                            "mode",
                            "observe"))));
    out.add(
        variant(
            "other alert labels",
            true,
            r -> {
              Map<String, Object> alerts = cast(r.get("alerts"));
              Map<String, Object> labels =
                  cast(alerts.computeIfAbsent("labels", k -> new LinkedHashMap<>()));
              labels.put("soak", "variant");
              alerts.put("repeat-interval", "3s");
            }));
    return out;
  }

  /** The base file without the renderer target. */
  Variant withoutRenderer() {
    return variant(
        "without the renderer target", true, r -> targets(r).remove(target(r, RENDERER)));
  }

  /** Files the agent must reject, each for another reason. */
  List<Variant> invalid() {
    List<Variant> out = new ArrayList<>();
    String syntax = "invalid: YAML syntax error (an unclosed flow mapping)";
    out.add(
        new Variant(
            syntax,
            header(syntax) + RulesCopy.dump(base) + "soak-broken: {unclosed: [1, 2\n",
            false));
    out.add(
        variant(
            "invalid: a misspelled condition (depht)",
            false,
            r -> {
              Map<String, Object> rule = rules(target(r, RENDERER)).get(0);
              rule.put("depht", rule.remove("depth"));
            }));
    out.add(
        variant(
            "invalid: calls-per-invocation of an unknown target",
            false,
            r -> {
              for (Map<String, Object> rule : rules(target(r, LOOKUP))) {
                if (rule.get("calls-per-invocation") instanceof Map<?, ?> c)
                  cast(c).put("of", "no-such-target");
              }
            }));
    return out;
  }

  private Variant variant(String name, boolean valid, Consumer<Map<String, Object>> change) {
    Map<String, Object> copy = RulesCopy.parse(RulesCopy.dump(base));
    change.accept(copy);
    return new Variant(name, header(name) + RulesCopy.dump(copy), valid);
  }

  private static String header(String name) {
    return "# written by the Firebreak soak: " + name + "\n";
  }

  // ---------------------------------------------------------------- the mapping

  private static Map<String, Object> killSwitch(Map<String, Object> r) {
    return cast(r.get("kill-switch"));
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> targets(Map<String, Object> r) {
    return (List<Map<String, Object>>) r.get("targets");
  }

  private static Map<String, Object> target(Map<String, Object> r, String name) {
    List<Map<String, Object>> targets = targets(r);
    if (targets == null) return null;
    for (Map<String, Object> t : targets) if (name.equals(t.get("name"))) return t;
    return null;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rules(Map<String, Object> target) {
    return (List<Map<String, Object>>) target.computeIfAbsent("rules", k -> new ArrayList<>());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object m) {
    return (Map<String, Object>) m;
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  static String duration(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  /** The sha256 the agent reports for a file with this text ({@code firebreak_rules_info}). */
  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
