package dev.firebreak.it;

import static dev.firebreak.it.ChildJvm.labels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC section 2, "Auto-fence": a runaway in methods no rule names is fenced within a second of
 * being seen; later runaways get the fallback. Child JVMs on JDK 17 and Temurin 25 run {@code
 * testapp.Runaway}, whose runaways are a cyclic graph serialized by Jackson (which catches the
 * overflow and wraps it), a recursion in a class loader with a null parent, and two runaways of its
 * own.
 */
class AutoFenceIT {
  private static final Pattern VERDICT = Pattern.compile("^(OK|OVERFLOW|FALLBACK|FAILED)\\b.*");

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  /** Jackson's jars, for the child's class path. */
  private static List<Path> jackson() throws Exception {
    List<Path> out = new ArrayList<>();
    for (Class<?> c : List.of(ObjectMapper.class, JsonGenerator.class, JsonProperty.class)) {
      out.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
    }
    return out;
  }

  private static Path rules(int port, Path alerts, String autoFence) throws Exception {
    return ChildJvm.writeRules(
        ChildJvm.rulesHeader(port, alerts.toString(), "") + "auto-fence:\n" + autoFence);
  }

  private static ChildJvm start(String java, List<String> jvmArgs, Path rules) throws Exception {
    ChildJvm app =
        ChildJvm.startMain(java, jvmArgs, "testapp.Runaway", "rules=" + rules, jackson());
    app.awaitLine("READY");
    return app;
  }

  /** Sends one command and returns its verdict: OK, OVERFLOW, FALLBACK or FAILED. */
  private static String attempt(ChildJvm app, String command) throws Exception {
    long before = verdicts(app).size();
    app.send(command);
    await().atMost(ChildJvm.TIMEOUT).until(() -> verdicts(app).size() > before || !app.alive());
    List<String> v = verdicts(app);
    assertThat(v).as(app.describe()).hasSizeGreaterThan((int) before);
    return v.get(v.size() - 1).split(" ")[0];
  }

  private static List<String> verdicts(ChildJvm app) {
    return app.stdout().lines().filter(l -> VERDICT.matcher(l).matches()).toList();
  }

  private static List<String> fenceAlerts(Path alerts) throws Exception {
    if (!Files.exists(alerts)) {
      return List.of();
    }
    return Files.readAllLines(alerts).stream()
        .filter(l -> l.contains("\"rule\":\"auto-fence\"") && l.contains("\"snippet\""))
        .toList();
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aJacksonCycleOverflowsOnceThenEveryLaterAttemptGetsTheFallback(
      String java, @TempDir Path dir) throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path recording = dir.resolve("app.jfr");
    Path rules =
        rules(port, alerts, "  packages: [\"com.fasterxml.jackson.databind.**\"]\n  depth: 64\n");
    String fence;
    try (ChildJvm app =
        start(java, List.of("-XX:StartFlightRecording:filename=" + recording), rules)) {
      String first = attempt(app, "jackson");
      assertThat(first).as(app.describe()).isIn("OVERFLOW", "FALLBACK");
      await().atMost(ChildJvm.TIMEOUT).until(() -> !fenceAlerts(alerts).isEmpty());
      String alert = fenceAlerts(alerts).get(0);
      fence = field(alert, "target");
      assertThat(fence).startsWith("auto-");
      assertThat(alert)
          .contains("\"action\":\"limit\"", "\"mode\":\"enforce\"", "\"threshold\":64")
          .contains("com.fasterxml.jackson.databind.");
      for (int i = 0; i < 5; i++) {
        assertThat(attempt(app, "jackson")).as(app.describe()).isEqualTo("FALLBACK");
      }
      Map<String, String> target = labels("target", fence);
      assertThat(app.sample(port, "firebreak_auto_fences_total", target)).isEqualTo(1.0);
      assertThat(
              app.sample(
                  port,
                  "firebreak_short_circuits_total",
                  labels("target", fence, "reason", "limit")))
          .isGreaterThanOrEqualTo(5.0);
      assertThat(app.stderr())
          .contains("firebreak: auto-fence: ")
          .contains("fenced as target " + fence)
          .contains("targets: [{name: " + fence + ", class: com.fasterxml.jackson.databind.");
      // one alert: the fence's own rule stays quiet for a repeat interval after it
      assertThat(Files.readAllLines(alerts))
          .filteredOn(l -> l.contains("\"rule\":\"auto-fence\""))
          .as("alerts of rule auto-fence")
          .hasSize(1);
    }
    String printed = FlightRecorderIT.jfrPrint(java, recording);
    assertThat(printed)
        .contains("firebreak.AutoFence")
        .contains("target = \"" + fence + "\"")
        .contains("com.fasterxml.jackson.databind.");
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aRecursionInANullParentClassLoaderIsFencedToo(String java, @TempDir Path dir)
      throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "  packages: [\"testapp.plugin.**\"]\n");
    String plugin = "plugin " + ChildJvm.pluginDir();
    try (ChildJvm app = start(java, List.of(), rules)) {
      assertThat(attempt(app, plugin)).as(app.describe()).isIn("OVERFLOW", "FALLBACK");
      await().atMost(ChildJvm.TIMEOUT).until(() -> !fenceAlerts(alerts).isEmpty());
      assertThat(field(fenceAlerts(alerts).get(0), "target")).isEqualTo("auto-plugin-recurse");
      assertThat(field(fenceAlerts(alerts).get(0), "method")).isEqualTo("recurse(String)");
      for (int i = 0; i < 3; i++) {
        assertThat(attempt(app, plugin)).as(app.describe()).isEqualTo("FALLBACK");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void inObserveModeTheFenceAlertsAndNeverShortCircuits(String java, @TempDir Path dir)
      throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "  packages: [\"testapp.**\"]\n  mode: observe\n");
    try (ChildJvm app = start(java, List.of(), rules)) {
      assertThat(attempt(app, "expand")).as(app.describe()).isEqualTo("OVERFLOW");
      await().atMost(ChildJvm.TIMEOUT).until(() -> !fenceAlerts(alerts).isEmpty());
      String alert = fenceAlerts(alerts).get(0);
      assertThat(field(alert, "target")).isEqualTo("auto-spiral-expand");
      assertThat(field(alert, "mode")).isEqualTo("observe");
      for (int i = 0; i < 3; i++) {
        assertThat(attempt(app, "expand")).as(app.describe()).isEqualTo("OVERFLOW");
      }
      Map<String, String> limit = labels("target", "auto-spiral-expand", "reason", "limit");
      assertThat(app.sample(port, "firebreak_short_circuits_total", limit)).isEqualTo(0.0);
      assertThat(
              app.sample(
                  port,
                  "firebreak_rule_triggers_total",
                  labels(
                      "rule", "auto-fence",
                      "target", "auto-spiral-expand",
                      "action", "limit",
                      "mode", "observe")))
          .isGreaterThanOrEqualTo(3.0);
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void maxFencesHolds(String java, @TempDir Path dir) throws Exception {
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "  packages: [\"testapp.**\"]\n  max-fences: 1\n");
    try (ChildJvm app = start(java, List.of(), rules)) {
      attempt(app, "expand");
      await().atMost(ChildJvm.TIMEOUT).until(() -> fenceAlerts(alerts).size() == 1);
      assertThat(attempt(app, "expand")).as(app.describe()).isEqualTo("FALLBACK");
      // a second, different runaway: no room for its fence
      assertThat(attempt(app, "ping")).as(app.describe()).isEqualTo("OVERFLOW");
      await().atMost(ChildJvm.TIMEOUT).until(() -> app.stderr().contains("max-fences (1) reached"));
      assertThat(attempt(app, "ping")).as(app.describe()).isEqualTo("OVERFLOW");
      assertThat(fenceAlerts(alerts)).hasSize(1);
      assertThat(
              app.sample(
                  port, "firebreak_auto_fences_total", labels("target", "auto-spiral-expand")))
          .isEqualTo(1.0);
      assertThat(app.stderr()).containsOnlyOnce("max-fences (1) reached");
    }
  }

  /**
   * A fence stays through a reload (and takes the section's new depth), shows in {@code GET
   * /targets} as automatic, and goes when the file gets the snippet the alert carried.
   */
  @Test
  void aFenceSurvivesAReloadAndTheSnippetFromItsAlertReplacesIt(@TempDir Path dir)
      throws Exception {
    String java = ChildJvm.javas().findFirst().orElseThrow();
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path token = Files.createTempFile(dir, "admin-token", "");
    Files.writeString(token, "t0ken\n");
    String head =
        ChildJvm.rulesHeader(port, alerts.toString(), "") + "admin: {token-file: " + token + "}\n";
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(rules, head + "auto-fence: {packages: [\"testapp.**\"], depth: 200}\n");
    BiFunction<String, String, String> admin =
        (method, path) -> ChildJvm.admin(port, method, path, "t0ken").body();
    try (ChildJvm app = start(java, List.of(), rules)) {
      attempt(app, "expand");
      await().atMost(ChildJvm.TIMEOUT).until(() -> !fenceAlerts(alerts).isEmpty());
      assertThat(admin.apply("GET", "/targets"))
          .contains("\"name\":\"auto-spiral-expand\"")
          .contains("\"automatic\":true");

      Files.writeString(rules, head + "auto-fence: {packages: [\"testapp.**\"], depth: 100}\n");
      assertThat(admin.apply("POST", "/reload")).contains("\"result\":\"success\"");
      assertThat(attempt(app, "expand")).as(app.describe()).isEqualTo("FALLBACK");
      assertThat(app.stdout()).contains("at depth 101 in testapp.Spiral.expand");

      String snippet =
          field(fenceAlerts(alerts).get(0), "snippet").replace("\\n", "\n").replace("\\\"", "\"");
      Files.writeString(
          rules, head + "auto-fence: {packages: [\"testapp.**\"], depth: 100}\n" + snippet);
      assertThat(admin.apply("POST", "/reload")).contains("\"result\":\"success\"");
      assertThat(app.stderr())
          .contains(
              "fence auto-spiral-expand taken down: target auto-spiral-expand of the rules file"
                  + " names its methods");
      assertThat(admin.apply("GET", "/targets"))
          .contains("\"name\":\"auto-spiral-expand\"")
          .doesNotContain("\"automatic\":true");
      assertThat(attempt(app, "expand")).as(app.describe()).isEqualTo("FALLBACK");
    }
  }

  /**
   * A runaway that overflows its stack before the net's depth (twice a very large {@code depth}) is
   * found through the StackOverflowError unwinding through the net.
   */
  @Test
  void anOverflowBeforeTheNetsDepthIsFencedThroughTheError(@TempDir Path dir) throws Exception {
    String java = ChildJvm.javas().findFirst().orElseThrow();
    int port = ChildJvm.freePort();
    Path alerts = dir.resolve("alerts.jsonl");
    Path rules = rules(port, alerts, "  packages: [\"testapp.**\"]\n  depth: 1000000\n");
    try (ChildJvm app = start(java, List.of(), rules)) {
      assertThat(attempt(app, "ping")).as(app.describe()).isEqualTo("OVERFLOW");
      await().atMost(ChildJvm.TIMEOUT).until(() -> !fenceAlerts(alerts).isEmpty());
      String alert = fenceAlerts(alerts).get(0);
      assertThat(field(alert, "target")).isIn("auto-spiral-ping", "auto-spiral-pong");
      assertThat(alert).contains("\"threshold\":1000000");
      assertThat(app.stderr())
          .contains("firebreak: auto-fence: a stack overflow in testapp.Spiral.p");
    }
  }
}
