package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hot reload in a running child JVM: swap, retransform, keep kill switches, roll back bad files.
 */
class ReloadIT {
  private static final String JAVA = ChildJvm.javas().findFirst().orElseThrow();

  private static String rules(int port, String extra, String targets) {
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: off}\n"
        + "reload: {watch: true, interval: 200ms}\n"
        + "kill-switch: {open-for: 60s, half-open-calls: 1}\n"
        + extra
        + "targets:"
        + (targets.isEmpty() ? " []\n" : "\n" + targets);
  }

  private static String emoji(int depth, String action) {
    return "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
        + "     rules: [{name: emoji-recursion, depth: "
        + depth
        + ", action: "
        + action
        + "}]}\n";
  }

  private static String sha(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private static void write(Path file, String content) throws Exception {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(
        tmp,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static double reloads(ChildJvm app, int port, String result) {
    return ChildJvm.sample(
        app.metrics(port), "firebreak_rules_reloads_total", Map.of("result", result));
  }

  @Test
  void targetsAddedAndRemovedAreInstrumentedAndRestoredWithoutARestart() throws Exception {
    int port = ChildJvm.freePort();
    Path file = ChildJvm.writeRules(rules(port, "", emoji(16, "limit")));
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      assertThat(app.once()).isEqualTo("fallback");

      String none = rules(port, "", "");
      write(file, none);
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 1);
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_rules_info", Map.of("sha256", sha(none))))
          .isEqualTo(1);
      // the original bytecode is back: the runaway call overflows again
      assertThat(app.once()).isEqualTo("overflow");

      write(file, rules(port, "", emoji(16, "limit")));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 2);
      assertThat(app.once()).isEqualTo("fallback");
      assertThat(app.stderr()).contains("firebreak: rules reloaded from " + file);
    }
  }

  @Test
  void anInvalidFileChangesNothingAndIsCountedThenTheFixedFileLoads() throws Exception {
    int port = ChildJvm.freePort();
    String good = rules(port, "", emoji(16, "limit"));
    Path file = ChildJvm.writeRules(good);
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      write(file, good.replace("depth: 16", "depth: sixteen"));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "failure") == 1);
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_rules_info", Map.of("sha256", sha(good))))
          .isEqualTo(1);
      assertThat(reloads(app, port, "success")).isZero();
      assertThat(app.stderr())
          .containsPattern(
              "firebreak: rules reload failed, the rules in force stay \\(sha256 [0-9a-f]{12}\\): "
                  + java.util.regex.Pattern.quote(file.toString())
                  + ":\\d+:\\d+: ");
      // the last good rules are still in force
      assertThat(app.once()).isEqualTo("fallback");

      String fixed = rules(port, "", emoji(20, "limit"));
      write(file, fixed);
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 1);
      assertThat(
              ChildJvm.sample(
                  app.metrics(port), "firebreak_rules_info", Map.of("sha256", sha(fixed))))
          .isEqualTo(1);
    }
  }

  @Test
  void killSwitchesOfUnchangedTargetsKeepTheirStateChangedOnesStartClosed() throws Exception {
    int port = ChildJvm.freePort();
    Path file = ChildJvm.writeRules(rules(port, "", emoji(16, "trip")));
    Map<String, String> target = Map.of("target", "emoji");
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      assertThat(app.once()).isEqualTo("fallback");
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isEqualTo(1);

      // same target, another file: the switch stays open
      write(file, "# reviewed by the on-call\n" + rules(port, "", emoji(16, "trip")));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 1);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isEqualTo(1);

      // the target's rule changed: it starts over closed
      write(file, rules(port, "", emoji(24, "trip")));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 2);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isZero();
    }
  }

  @Test
  void aFileSavedInTwoStepsIsReadOnceItSettlesWithoutASpuriousFailure() throws Exception {
    int port = ChildJvm.freePort();
    Path file =
        ChildJvm.writeRules(
            rules(port, "", emoji(16, "limit")).replace("interval: 200ms", "interval: 1s"));
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      String next = rules(port, "", emoji(20, "limit")).replace("interval: 200ms", "interval: 1s");
      for (int round = 1; round <= 3; round++) {
        String content = next.replace("depth: 20", "depth: " + (20 + round));
        // an editor that truncates, writes half, pauses briefly, then writes the rest
        Files.writeString(file, content.substring(0, content.length() / 2), StandardCharsets.UTF_8);
        Thread.sleep(20);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        final int expected = round;
        await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == expected);
      }
      assertThat(reloads(app, port, "failure")).isZero();
      assertThat(app.stderr()).doesNotContain("rules reload failed");
    }
  }

  @Test
  void anAgentStartedWithABrokenFilePicksUpTheFixedOne() throws Exception {
    int port = ChildJvm.freePort();
    Path file =
        ChildJvm.writeRules(
            rules(port, "", emoji(16, "limit")).replace("version: 1", "version: 2"));
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file + ",port=" + port, "plain")) {
      app.awaitLine("READY");
      assertThat(app.stderr()).contains("firebreak: rules not loaded");
      assertThat(app.once()).isEqualTo("overflow");
      write(file, rules(port, "", emoji(16, "limit")));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 1);
      assertThat(app.once()).isEqualTo("fallback");
    }
  }
}
