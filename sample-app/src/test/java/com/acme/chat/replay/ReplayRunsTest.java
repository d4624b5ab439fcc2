package com.acme.chat.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.util.Args;
import com.acme.chat.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code replay --rules FILE}: one more run with Firebreak per file, beside the run with the SRE's
 * rules, and what the table and the JSON line say of a run with an auto-fence.
 */
class ReplayRunsTest {
  @TempDir Path dir;

  private Path file(String name) throws Exception {
    return Files.writeString(dir.resolve(name), "version: 1\n");
  }

  @Test
  void eachRulesOptionAddsARunBesideTheDefaultOne() throws Exception {
    Path fence = file("auto-fence.yaml");
    Path other = Files.createDirectories(dir.resolve("b")).resolve("auto-fence.yaml");
    Files.writeString(other, "version: 1\n");
    Path dflt = file("emoji-pipeline.yaml");
    System.setProperty("firebreak.rules", dflt.toString());
    try {
      Replay.Command c =
          Replay.command(
              List.of(
                  "--rules",
                  fence.toString(),
                  "--rules",
                  dflt.toString(),
                  "--rules",
                  other.toString(),
                  "--json"));
      assertThat(c.json()).isTrue();
      assertThat(c.options().rules()).isEqualTo(dflt);
      assertThat(c.options().moreRules()).containsExactly(fence, dflt, other);
      List<Replay.Plan> plans = new Replay(c.options(), System.out, System.err).plans();
      assertThat(plans)
          .containsExactly(
              new Replay.Plan("without Firebreak", false, null),
              new Replay.Plan("with Firebreak", true, dflt),
              new Replay.Plan("with auto-fence", true, fence),
              new Replay.Plan("with auto-fence (2)", true, other));

      Replay.Command rollback =
          Replay.command(
              List.of("--rules", fence.toString(), "--auto-rollback", "--with-agent-only"));
      assertThat(new Replay(rollback.options(), System.out, System.err).plans())
          .extracting(Replay.Plan::label)
          .containsExactly("with Firebreak + rollback", "with auto-fence + rollback");
    } finally {
      System.clearProperty("firebreak.rules");
    }
  }

  @Test
  void aRulesFileThatIsNotThereOrARunThatCannotBeAreUsageErrors() throws Exception {
    assertThatThrownBy(
            () -> Replay.command(List.of("--rules", dir.resolve("nope.yaml").toString())))
        .isInstanceOf(Args.UsageException.class)
        .hasMessageContaining("no such file");
    Path fence = file("auto-fence.yaml");
    assertThatThrownBy(
            () -> Replay.command(List.of("--rules", fence.toString(), "--without-agent-only")))
        .isInstanceOf(Args.UsageException.class)
        .hasMessageContaining("--without-agent-only");
  }

  private static LoadGenerator.Summary summary(String phase, double pct, double p99) {
    return new LoadGenerator.Summary(
        phase,
        1000,
        (long) (pct * 10),
        1000 - (long) (pct * 10),
        0,
        0,
        0,
        0,
        pct,
        1,
        p99,
        p99,
        50,
        50);
  }

  private static Replay.RunResult run(
      String label,
      boolean agent,
      String rules,
      boolean autoFence,
      double afterPct,
      long overflows,
      Double firstOverflow,
      Double fence,
      Map<String, Object> alert) {
    Map<String, LoadGenerator.Summary> phases =
        Map.of(
            "before", summary("before", 100, 7),
            "after", summary("after", afterPct, 9),
            "recovered", summary("recovered", 100, 7));
    return new Replay.RunResult(
        label,
        agent,
        phases,
        0,
        agent ? 0.3 : null,
        null,
        null,
        alert,
        alert == null ? 0 : 1,
        null,
        null,
        1.0,
        15.0,
        0,
        List.of(),
        rules,
        autoFence,
        overflows,
        firstOverflow,
        fence,
        alert == null ? null : 0.3,
        agent && !autoFence);
  }

  @SuppressWarnings("unchecked")
  @Test
  void theTableAndTheJsonShowTheAutoFenceRunBesideTheOthers() throws Exception {
    Map<String, Object> fenceAlert =
        Json.obj(
            "rule", "auto-fence",
            "target", "auto-emojirenderer-expand",
            "method", "expand(String,int)",
            "action", "limit",
            "thread", "worker-2",
            "stack",
                List.of("com.acme.chat.render.EmojiRenderer.expand(EmojiRenderer.java:81) x256"));
    Replay.Report r =
        new Replay.Report(
            null,
            List.of(
                run("without Firebreak", false, null, false, 9.0, 4200, 0.01, null, null),
                run(
                    "with Firebreak",
                    true,
                    "rules/emoji-pipeline.yaml",
                    false,
                    100,
                    0,
                    null,
                    null,
                    Json.obj("rule", "emoji-recursion", "target", "emoji-render")),
                run(
                    "with auto-fence",
                    true,
                    "rules/auto-fence.yaml",
                    true,
                    99.6,
                    3,
                    0.02,
                    0.41,
                    fenceAlert)),
            90);
    Replay.Options o =
        Replay.command(List.of("--rules", Files.writeString(dir.resolve("f.yaml"), "").toString()))
            .options();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    String table = new Replay(o, new PrintStream(buf), new PrintStream(buf)).table(r);
    List<String> lines = table.lines().toList();
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains("without Firebreak")
                    .contains("with Firebreak")
                    .contains("with auto-fence"));
    assertThat(row(lines, "success after the bad deploy"))
        .containsSubsequence("9.0 %", "100.0 %", "99.6 %");
    assertThat(row(lines, "attempts that overflowed the stack"))
        .containsSubsequence("4200", "0", "3");
    assertThat(row(lines, "first stack overflow after the bad deploy"))
        .containsSubsequence("0.01 s", "none", "0.02 s");
    assertThat(row(lines, "auto-fence in place after the bad deploy"))
        .containsSubsequence("-", "-", "0.41 s");
    assertThat(row(lines, "kill switch open after the bad deploy"))
        .containsExactly("-", "none", "-");
    assertThat(row(lines, "first alert naming EmojiRenderer.expand"))
        .containsSubsequence("-", "0.30 s", "0.30 s");
    assertThat(table)
        .contains("with auto-fence: the rules file rules/auto-fence.yaml")
        .contains(
            "first alert (with auto-fence): rule auto-fence on target auto-emojirenderer-expand")
        .contains("EmojiRenderer.expand(EmojiRenderer.java:81) x256");

    List<Map<String, Object>> runs = (List<Map<String, Object>>) Replay.toJson(r).get("runs");
    assertThat(runs)
        .extracting(m -> m.get("name"))
        .containsExactly("without Firebreak", "with Firebreak", "with auto-fence");
    assertThat(runs.get(2))
        .containsEntry("agent", true)
        .containsEntry("rules", "rules/auto-fence.yaml")
        .containsEntry("delivered_after_pct", 99.6)
        .containsEntry("first_overflow_s", 0.02)
        .containsEntry("fence_s", 0.41)
        .containsEntry("stack_overflows", 3L)
        .containsKeys("p99_after_ms", "first_alert_s", "recovery_s", "rendered_pct");
    assertThat(runs.get(0)).containsEntry("rules", null).containsEntry("fence_s", null);
  }

  /** The cells of the row called {@code name}. */
  private static List<String> row(List<String> lines, String name) {
    String line = lines.stream().filter(l -> l.trim().startsWith(name)).findFirst().orElseThrow();
    return List.of(line.trim().substring(name.length()).trim().split("\\s{2,}"));
  }

  @Test
  void aFenceAlertIsTheAgentsOwnAndTheRendererIsNamedByItsFrameOrItsTarget() {
    assertThat(Replay.isFence(Map.of("rule", "auto-fence"))).isTrue();
    assertThat(Replay.isFence(Map.of("rule", "auto-fence", "resolved", true))).isFalse();
    assertThat(Replay.isFence(Map.of("rule", "emoji-recursion"))).isFalse();
    assertThat(Replay.namesRenderer(Map.of("target", "auto-emojirenderer-expand"))).isTrue();
    assertThat(
            Replay.namesRenderer(
                Map.of("stack", List.of("com.acme.chat.render.EmojiRenderer.expand(E.java:1)"))))
        .isTrue();
    assertThat(
            Replay.namesRenderer(
                Map.of("stack", List.of("com.acme.chat.pipeline.Pipeline.process(P.java:1)"))))
        .isFalse();
  }
}
