package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code java -jar firebreak-agent.jar attach}: into a JVM started without the agent, on JDK 17 and
 * 25.
 */
class AttachIT {

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  record Cli(int exit, String out, String err) {}

  static Cli cli(String java, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java, "-jar", ChildJvm.agentJar().toString()));
    cmd.addAll(List.of(args));
    Path dir = Files.createTempDirectory("firebreak-cli");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(dir.resolve("out").toFile())
            .redirectError(dir.resolve("err").toFile())
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("attach did not finish: " + cmd);
    }
    return new Cli(
        p.exitValue(),
        Files.readString(dir.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve("err"), StandardCharsets.UTF_8));
  }

  private static String rules(int port, int depth) {
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: off}\n"
        + "targets:\n"
        + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
        + "     rules: [{name: emoji-recursion, depth: "
        + depth
        + ", action: trip}]}\n";
  }

  @ParameterizedTest
  @MethodSource("javas")
  void attachLoadsTheAgentReplacesRulesAndDetaches(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path first = ChildJvm.writeRules(rules(port, 16));
    Path second = ChildJvm.writeRules(rules(port, 20));
    try (ChildJvm app = ChildJvm.start(java, null, "plain")) {
      app.awaitLine("READY");
      String pid = Long.toString(app.pid());
      assertThat(app.once()).isEqualTo("overflow");

      Cli listed = cli(java, "attach");
      assertThat(listed.exit()).isZero();
      assertThat(listed.out()).containsPattern("(?m)^" + pid + " testapp.App");

      Cli attached = cli(java, "attach", pid, first.toString());
      assertThat(attached.exit()).as(attached.err()).isZero();
      assertThat(attached.out()).contains("firebreak: pid " + pid + ": running, rules " + first);
      assertThat(app.once()).isEqualTo("fallback");
      String m = app.metrics(port);
      assertThat(ChildJvm.sample(m, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isEqualTo(1);
      assertThat(ChildJvm.sample(m, "firebreak_rules_info", Map.of("source", first.toString())))
          .isEqualTo(1);

      Cli again = cli(java, "attach", pid, second.toString());
      assertThat(again.exit()).as(again.err()).isZero();
      assertThat(again.out()).contains("rules " + second);
      // the same agent took the new rules: same metrics server, no second agent
      assertThat(app.sample(port, "firebreak_rules_info", Map.of("source", second.toString())))
          .isEqualTo(1);
      assertThat(app.stderr())
          .doesNotContain("cannot serve /metrics")
          .doesNotContain("already running");

      Cli detached = cli(java, "attach", pid, "--detach");
      assertThat(detached.exit()).as(detached.err()).isZero();
      assertThat(app.once()).isEqualTo("overflow");
    }
  }

  /**
   * An attach that comes while the -javaagent start is between its halves (the rules parsed and in
   * the engine, the instrumentation not built: held here for three seconds) waits for the start to
   * finish, then swaps the rules on the same agent.
   */
  @ParameterizedTest
  @MethodSource("javas")
  void anAttachDuringTheStartWaitsForItThenSwapsTheRules(String java) throws Exception {
    int port = ChildJvm.freePort();
    // the first rules name another class: Emoji, loaded only by once(), must get the second's
    Path first = ChildJvm.writeRules(rules(port, 16).replace("testapp.Emoji", "testapp.Nothing"));
    Path second = ChildJvm.writeRules(rules(port, 20));
    try (ChildJvm app =
        ChildJvm.start(
            java,
            List.of("-Dfirebreak.test.delay-rules-ms=3000"),
            "rules=" + first,
            Map.of(),
            "plain")) {
      app.awaitLine("READY");
      String pid = Long.toString(app.pid());

      Cli attached = cli(java, "attach", pid, second.toString());

      assertThat(attached.exit()).as(attached.err()).isZero();
      assertThat(attached.out()).contains("firebreak: pid " + pid + ": running, rules " + second);
      // /metrics answers once the start is complete; Emoji loads only after that
      assertThat(app.sample(port, "firebreak_rules_info", Map.of("source", second.toString())))
          .isEqualTo(1);
      assertThat(app.once()).isEqualTo("fallback");
      assertThat(app.stderr()).doesNotContain("cannot serve /metrics");
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void clearErrorsForNoSuchPidBadUsageAndDisabledAttach(String java) throws Exception {
    Path rules = ChildJvm.writeRules(rules(0, 16));
    Cli missing = cli(java, "attach", "999999999", rules.toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("firebreak: cannot attach to pid 999999999");

    assertThat(cli(java, "attach", "not-a-pid", rules.toString()).exit()).isEqualTo(2);
    assertThat(cli(java, "attach", "123").exit()).isEqualTo(2);

    Path bad = ChildJvm.writeRules("version: 1\ntargets: [{name: x}]\n");
    Cli invalid = cli(java, "attach", "1", bad.toString());
    assertThat(invalid.exit()).isEqualTo(1);
    assertThat(invalid.out())
        .contains(bad.toString() + ":2:11: targets[0]: missing required key 'class'");

    try (ChildJvm app =
        ChildJvm.start(java, List.of("-XX:+DisableAttachMechanism"), null, Map.of(), "plain")) {
      app.awaitLine("READY");
      Cli refused = cli(java, "attach", Long.toString(app.pid()), rules.toString());
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("firebreak: cannot attach to pid " + app.pid());
    }
  }
}
