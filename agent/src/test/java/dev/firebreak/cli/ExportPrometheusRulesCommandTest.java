package dev.firebreak.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class ExportPrometheusRulesCommandTest {
  static final Path SAMPLE_RULES =
      Path.of("../rules/emoji-pipeline.yaml").toAbsolutePath().normalize();
  static final Path DASHBOARD =
      Path.of("../rules/firebreak-dashboard.json").toAbsolutePath().normalize();
  static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  @TempDir Path dir;

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  private String out() {
    return outBytes.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  private int run(String... args) {
    outBytes.reset();
    errBytes.reset();
    return ExportPrometheusRulesCommand.run(List.of(args), out, err);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> groups(String yaml) {
    Map<String, Object> doc =
        (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    assertThat(doc.keySet()).containsExactly("groups");
    return (List<Map<String, Object>>) doc.get("groups");
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rules(String yaml) {
    List<Map<String, Object>> all = new ArrayList<>();
    for (Map<String, Object> g : groups(yaml)) {
      all.addAll((List<Map<String, Object>>) g.get("rules"));
    }
    return all;
  }

  private static Map<String, Object> alert(List<Map<String, Object>> rules, String name) {
    return rules.stream()
        .filter(r -> name.equals(r.get("alert")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no alert " + name));
  }

  private Path write(String name, String content) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, content);
    return p;
  }

  @SuppressWarnings("unchecked")
  @Test
  void theSampleRulesBecomeOneAlertPerRuleAKillSwitchAlertAReloadAlertAndP99RecordingRules() {
    assertThat(run(SAMPLE_RULES.toString())).as(err()).isZero();
    assertThat(err()).isEmpty();
    String yaml = out();
    List<Map<String, Object>> groups = groups(yaml);
    assertThat(groups)
        .extracting(g -> g.get("name"))
        .containsExactly("firebreak-emoji-pipeline-recording", "firebreak-emoji-pipeline-alerts");
    List<Map<String, Object>> rules = rules(yaml);
    assertThat(rules)
        .extracting(r -> r.containsKey("alert") ? r.get("alert") : r.get("record"))
        .containsExactly(
            "instance_target:firebreak_call_duration_seconds:p99_5m",
            "target:firebreak_call_duration_seconds:p99_5m",
            "FirebreakEmojiRecursion",
            "FirebreakEmojiLookupBudget",
            "FirebreakSerializeSlow",
            "FirebreakPipelineStuck",
            "FirebreakKillSwitchOpen",
            "FirebreakRulesReloadFailed");
    for (Map<String, Object> r : rules) {
      String name = (String) (r.containsKey("alert") ? r.get("alert") : r.get("record"));
      assertThat(name).matches(METRIC_NAME);
      Map<String, String> labels = (Map<String, String>) r.get("labels");
      assertThat(labels).containsEntry("service", "chat").containsEntry("team", "messaging");
      if (r.containsKey("alert")) {
        assertThat(labels).containsKey("severity");
        assertThat((Map<String, String>) r.get("annotations"))
            .containsKeys("summary", "description");
      }
    }

    Map<String, Object> recursion = alert(rules, "FirebreakEmojiRecursion");
    assertThat(recursion.get("expr"))
        .isEqualTo(
            "increase(firebreak_rule_triggers_total{rule=\"emoji-recursion\",target=\"emoji-render\"}[5m]) > 0");
    assertThat((Map<String, String>) recursion.get("labels")).containsEntry("severity", "critical");
    assertThat(((Map<String, String>) recursion.get("annotations")).get("description"))
        .contains("call depth above 32")
        .contains("return-arg:0")
        .contains("kill switch opened for 10s");
    assertThat((Map<String, String>) alert(rules, "FirebreakEmojiLookupBudget").get("labels"))
        .containsEntry("severity", "critical");
    assertThat((Map<String, String>) alert(rules, "FirebreakSerializeSlow").get("labels"))
        .containsEntry("severity", "warning");
    assertThat((Map<String, String>) alert(rules, "FirebreakPipelineStuck").get("labels"))
        .containsEntry("severity", "warning");

    assertThat(alert(rules, "FirebreakKillSwitchOpen").get("expr"))
        .isEqualTo(
            "max_over_time(firebreak_kill_switch_state{target=~\"emoji-render|emoji-lookup|serialize|pipeline\"}[5m]) > 0");
    assertThat(alert(rules, "FirebreakRulesReloadFailed").get("expr"))
        .isEqualTo("increase(firebreak_rules_reloads_total{result=\"failure\"}[5m]) > 0");

    Map<String, Object> perInstance = rules.get(0);
    assertThat(perInstance.get("expr"))
        .isEqualTo(
            "histogram_quantile(0.99, sum without (method) "
                + "(rate(firebreak_call_duration_seconds_bucket{target=~\"emoji-render|emoji-lookup|serialize|pipeline\"}[5m])))");
    assertThat(rules.get(1).get("expr"))
        .isEqualTo(
            "histogram_quantile(0.99, sum without (instance, method) "
                + "(rate(firebreak_call_duration_seconds_bucket{target=~\"emoji-render|emoji-lookup|serialize|pipeline\"}[5m])))");
    assertThat(yaml)
        .startsWith("# Prometheus rules for the Firebreak rules file ")
        .contains("sha256 ");
  }

  @SuppressWarnings("unchecked")
  @Test
  void severityFollowsActionAndModeAndLabelsAreQuotedSafely() throws Exception {
    Path file =
        write(
            "odd-rules.yml",
            """
        version: 1
        mode: enforce
        alerts: {labels: {service: "it's \\"quoted\\"", note: "{{ not a template }}", multi: "a\\nb", emoji: "🎉 ok"}}
        targets:
          - name: a
            class: com.acme.A
            fallback: return-null
            rules:
              - {name: a-limit, depth: 4, action: limit}
              - {name: a-shadow, depth: 2, action: trip, mode: observe}
              - {name: a1, duration: 1s, action: alert}
              - {name: a-1, duration: 2s, action: alert}
        """);
    assertThat(run(file.toString())).as(err()).isZero();
    List<Map<String, Object>> rules = rules(out());
    assertThat(groups(out()).get(0).get("name")).isEqualTo("firebreak-odd-rules-recording");
    assertThat((Map<String, String>) alert(rules, "FirebreakALimit").get("labels"))
        .containsEntry("severity", "critical");
    assertThat((Map<String, String>) alert(rules, "FirebreakAShadow").get("labels"))
        .containsEntry("severity", "warning");
    assertThat(
            ((Map<String, String>) alert(rules, "FirebreakAShadow").get("annotations"))
                .get("description"))
        .contains("Observe mode");
    // a1 and a-1 both CamelCase to A1: the second gets a suffix, the names stay unique and valid
    assertThat(alert(rules, "FirebreakA1").get("expr").toString()).contains("rule=\"a1\"");
    assertThat(alert(rules, "FirebreakA1_2").get("expr").toString()).contains("rule=\"a-1\"");
    Set<String> names = new HashSet<>();
    for (Map<String, Object> r : rules) {
      if (r.containsKey("alert")) {
        assertThat(names.add((String) r.get("alert"))).isTrue();
      }
      Map<String, String> labels = (Map<String, String>) r.get("labels");
      assertThat(labels)
          .containsEntry("service", "it's \"quoted\"")
          .containsEntry("multi", "a\nb")
          .containsEntry("emoji", "🎉 ok");
      // alerting rules' labels are Go templates (so a literal '{{' is escaped); recording rules'
      // are not
      assertThat(labels)
          .containsEntry(
              "note",
              r.containsKey("alert") ? "{{ \"{{\" }} not a template }}" : "{{ not a template }}");
    }
  }

  @Test
  void selectorAndWindowGoIntoEveryQuery() {
    assertThat(
            run("--selector", "job=\"chat\", env!=\"dev\"", "--window=2m", SAMPLE_RULES.toString()))
        .as(err())
        .isZero();
    List<Map<String, Object>> rules = rules(out());
    assertThat(rules.get(0).get("record"))
        .isEqualTo("instance_target:firebreak_call_duration_seconds:p99_2m");
    for (Map<String, Object> r : rules) {
      assertThat(r.get("expr").toString())
          .contains("job=\"chat\", env!=\"dev\"}[2m]")
          .doesNotContain("[5m]");
    }
    assertThat(out()).contains("--selector 'job=\"chat\", env!=\"dev\"' --window 2m");
    assertThat(run("--selector", "{job=\"chat\"}", SAMPLE_RULES.toString())).isZero();
    assertThat(out())
        .contains("{rule=\"emoji-recursion\",target=\"emoji-render\",job=\"chat\"}[5m]");
  }

  @Test
  void wrongUsageExitsTwo() {
    assertThat(run()).isEqualTo(2);
    assertThat(err()).contains("usage: java -jar firebreak-agent.jar export-prometheus-rules");
    assertThat(out()).isEmpty();
    assertThat(run("a.yaml", "b.yaml")).isEqualTo(2);
    assertThat(err()).contains("one rules file only");
    assertThat(run("--nope", SAMPLE_RULES.toString())).isEqualTo(2);
    assertThat(err()).contains("unknown option '--nope'");
    assertThat(run("--window", "5 minutes", SAMPLE_RULES.toString())).isEqualTo(2);
    assertThat(run("--window", "0m", SAMPLE_RULES.toString())).isEqualTo(2);
    assertThat(run("--selector", "job=chat", SAMPLE_RULES.toString())).isEqualTo(2);
    assertThat(err()).contains("--selector expects Prometheus label matchers");
    assertThat(run("--selector", "job=\"a\"} or vector(1) # ", SAMPLE_RULES.toString()))
        .isEqualTo(2);
    assertThat(run(SAMPLE_RULES.toString(), "--window")).isEqualTo(2);
    assertThat(out()).isEmpty();
    assertThat(run("--help")).isZero();
    assertThat(out()).contains("--selector");
    assertThat(Main.run(List.of("export-prometheus-rules"), out, err)).isEqualTo(2);
  }

  @Test
  void invalidRulesExitOneWithEveryErrorAsFileLineColumn() throws Exception {
    Path bad =
        write(
            "bad.yaml",
            """
        version: 1
        reload: {intervall: 2s}
        targets:
          - {name: render, class: com.acme.Renderer, rules: [{name: deep, depth: "32", action: trip}]}
        """);
    assertThat(run(bad.toString())).isEqualTo(1);
    assertThat(out()).isEmpty();
    List<String> lines = err().lines().toList();
    assertThat(lines).hasSizeGreaterThanOrEqualTo(2);
    assertThat(lines)
        .allSatisfy(l -> assertThat(l).startsWith(bad + ":").matches(".*:\\d+:\\d+: .*"));
    assertThat(lines.get(0)).startsWith(bad + ":2:");

    assertThat(run(dir.resolve("missing.yaml").toString())).isEqualTo(1);
    assertThat(err()).startsWith(dir.resolve("missing.yaml") + ":1:1: ");
    assertThat(Main.run(List.of("export-prometheus-rules", bad.toString()), out, err)).isEqualTo(1);
  }

  @Test
  void aFileWithoutTargetsStillGetsTheReloadAlert() throws Exception {
    Path empty = write("empty.yaml", "version: 1\ntargets: []\n");
    assertThat(run(empty.toString())).as(err()).isZero();
    assertThat(rules(out()))
        .extracting(r -> r.get("alert"))
        .containsExactly("FirebreakRulesReloadFailed");
    assertThat(rules(out()).get(0).get("labels")).isEqualTo(Map.of("severity", "warning"));
  }

  /** The dashboard queries the series the exported rules record and alert on. */
  @SuppressWarnings("unchecked")
  @Test
  void theDashboardQueriesTheExportedRecordingRulesAndAlertMetrics() throws Exception {
    assertThat(DASHBOARD).exists();
    Map<String, Object> dash =
        (Map<String, Object>)
            new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(DASHBOARD));
    List<String> exprs = new ArrayList<>();
    for (Map<String, Object> panel : (List<Map<String, Object>>) dash.get("panels")) {
      for (Map<String, Object> t :
          (List<Map<String, Object>>) panel.getOrDefault("targets", List.of())) {
        exprs.add((String) t.get("expr"));
      }
    }
    assertThat(run(SAMPLE_RULES.toString())).isZero();
    List<Map<String, Object>> rules = rules(out());
    // both p99 recording rules, by name
    for (Map<String, Object> r : rules) {
      if (r.containsKey("record")) {
        assertThat(exprs).anySatisfy(e -> assertThat(e).startsWith(r.get("record") + "{"));
      }
    }
    // the alerts' expressions, minus the threshold and the fixed matchers
    assertThat(exprs)
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith("increase(firebreak_rule_triggers_total{")
                    .endsWith("}[5m])"));
    assertThat(exprs)
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith("increase(firebreak_rules_reloads_total{")
                    .endsWith("}[5m])"));
    assertThat(exprs).anySatisfy(e -> assertThat(e).startsWith("firebreak_kill_switch_state{"));
    assertThat(exprs).anySatisfy(e -> assertThat(e).contains("ALERTS{alertname=~\"Firebreak.*\""));
    // every metric the dashboard names exists: a Firebreak metric of SPEC section 3, a recording
    // rule, or ALERTS
    Set<String> known =
        new HashSet<>(
            List.of(
                "ALERTS",
                "firebreak_kill_switch_state",
                "firebreak_rule_triggers_total",
                "firebreak_rules_reloads_total",
                "firebreak_short_circuits_total",
                "firebreak_rules_info"));
    rules.stream()
        .filter(r -> r.containsKey("record"))
        .forEach(r -> known.add((String) r.get("record")));
    Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{").matcher(String.join("\n", exprs));
    while (m.find()) {
      assertThat(known).as("metric in a dashboard query").contains(m.group(1));
    }
    assertThat(Files.readString(DASHBOARD)).contains("\"uid\": \"${datasource}\"");
  }

  // ---- promtool ------------------------------------------------------------------------------

  static Path promtool() {
    for (String dirName : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dirName.isEmpty() ? "." : dirName, "promtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    Path debian = Path.of("/usr/bin/promtool");
    if (Files.isExecutable(debian)) {
      return debian;
    }
    String reason = "promtool is not installed (Debian package 'prometheus')";
    if (System.getenv("CI") != null) {
      fail(reason + "; CI is set, so this is a failure, not a skip");
    }
    System.out.println("SKIPPED: " + reason);
    Assumptions.assumeTrue(false, reason);
    return null;
  }

  private String promtoolCheck(Path promtool, String yaml, String name) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, yaml);
    Process p =
        new ProcessBuilder(promtool.toString(), "check", "rules", file.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("promtool check rules:\n" + output + "\n" + yaml).isZero();
    return output;
  }

  @Test
  void promtoolAcceptsTheExportedRules() throws Exception {
    Path promtool = promtool();
    assertThat(run(SAMPLE_RULES.toString())).isZero();
    assertThat(promtoolCheck(promtool, out(), "sample.rules.yml"))
        .contains("SUCCESS: 8 rules found");

    Path odd =
        write(
            "odd.yaml",
            """
        version: 1
        mode: observe
        alerts: {labels: {service: "it's \\"quoted\\"", note: "{{ .Nope }} {{", multi: "a\\nb\\tc", emoji: "🎉"}}
        kill-switch: {open-for: 1500ms, half-open-calls: 1}
        targets:
          - name: x-1
            class: "com.acme.**"
            method: "get*"
            fallback: "return-value:{{ $value }} 'quoted' \\"double\\""
            rules:
              - {name: x-deep, depth: 1, action: trip}
              - {name: x1, latency: {percentile: 99.9, above: 250ms, window: 1m}, action: trip}
              - {name: x-lim, depth: 9, action: limit}
              - {name: x-1, calls-per-invocation: {limit: 5, of: y}, action: alert}
          - {name: y, class: Y, rules: [{name: "0-starts-with-digit", duration: 1h, action: alert}]}
        """);
    assertThat(
            run(
                "--selector",
                "job=~\"chat|chat-canary\",env!=\"dev\"",
                "--window",
                "90s",
                odd.toString()))
        .as(err())
        .isZero();
    assertThat(promtoolCheck(promtool, out(), "odd.rules.yml")).contains("SUCCESS: 9 rules found");
  }
}
