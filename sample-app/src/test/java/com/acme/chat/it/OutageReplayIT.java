package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.replay.Replay;
import com.acme.chat.server.ChatServer;
import com.acme.chat.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outage, measured: the bad pack under open-loop load, without the agent (the success rate must
 * collapse, or the replay would be dishonest) and with it (delivery must hold), with the SRE's
 * rules and with further rules files ({@code --rules}), among them rules/auto-fence.yaml, which
 * names no method.
 */
class OutageReplayIT {
  private static Replay.Report replay(
      Path agent,
      boolean without,
      boolean with,
      Duration warmup,
      Duration steady,
      Duration incident,
      Duration recoveryMax,
      boolean autoRollback,
      Path report,
      StringBuilder table)
      throws Exception {
    return replay(
        agent,
        without,
        with,
        warmup,
        steady,
        incident,
        recoveryMax,
        autoRollback,
        report,
        List.of(),
        table);
  }

  private static Replay.Report replay(
      Path agent,
      boolean without,
      boolean with,
      Duration warmup,
      Duration steady,
      Duration incident,
      Duration recoveryMax,
      boolean autoRollback,
      Path report,
      List<Path> moreRules,
      StringBuilder table)
      throws Exception {
    Replay.Options o =
        new Replay.Options(
            ItSupport.appJar(),
            agent,
            ItSupport.rules(),
            200,
            warmup,
            steady,
            incident,
            Duration.ofSeconds(3),
            recoveryMax,
            ChatServer.DEFAULT_MAX_RETRIES,
            "bad-update",
            without,
            with,
            false,
            autoRollback,
            report,
            moreRules);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Replay.Report r =
        new Replay(o, new PrintStream(buf, true, StandardCharsets.UTF_8), System.out).run();
    table.append(buf.toString(StandardCharsets.UTF_8));
    System.out.print(table);
    return r;
  }

  @Test
  void withoutTheAgentTheBadPackCollapsesDelivery() throws Exception {
    StringBuilder table = new StringBuilder();
    Replay.Report r =
        replay(
            null,
            true,
            false,
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            false,
            null,
            table);
    Replay.RunResult run = r.withoutAgent();
    assertThat(run.note()).isNull();
    LoadGenerator.Summary before = run.phase("before");
    LoadGenerator.Summary after = run.phase("after");
    assertThat(before.successPct())
        .as("success before the bad deploy")
        .isGreaterThanOrEqualTo(99.0);
    assertThat(after.successPct())
        .as("success after the bad deploy, without the agent")
        .isLessThan(50.0);
    assertThat(after.failed()).isGreaterThan(after.sent() / 2);
    assertThat(run.phase("recovered").successPct())
        .as("once the good pack is back")
        .isGreaterThanOrEqualTo(90.0);
    assertThat(table).contains("without Firebreak").contains("success after the bad deploy");
  }

  @SuppressWarnings("unchecked")
  @Test
  void withTheAgentDeliveryHoldsAndTheAlertNamesTheRenderer() throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    StringBuilder table = new StringBuilder();
    Replay.Report r =
        replay(
            agent,
            false,
            true,
            Duration.ofSeconds(3),
            Duration.ofSeconds(8),
            Duration.ofSeconds(12),
            Duration.ofSeconds(16),
            false,
            null,
            table);
    Replay.RunResult run = r.withAgent();
    assertThat(run.note()).isNull();
    LoadGenerator.Summary before = run.phase("before");
    LoadGenerator.Summary after = run.phase("after");
    assertThat(before.successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(after.successPct())
        .as("success after the bad deploy, with the agent")
        .isGreaterThanOrEqualTo(99.0);
    assertThat(after.p99Ms())
        .as("p99 after vs 3x p99 before (%.1f ms)", before.p99Ms())
        .isLessThanOrEqualTo(3 * before.p99Ms());
    assertThat(run.deadLettered()).isZero();

    Map<String, Object> alert = run.alert();
    assertThat(alert).as("an alert event after the bad deploy").isNotNull();
    assertThat(alert)
        .containsEntry("rule", "emoji-recursion")
        .containsEntry("target", "emoji-render")
        .containsEntry("method", "expand(String,int)")
        .containsEntry("action", "trip");
    assertThat((List<String>) alert.get("stack"))
        .anySatisfy(l -> assertThat(l).startsWith("com.acme.chat.render.EmojiRenderer.expand("))
        .anySatisfy(l -> assertThat(l).startsWith("com.acme.chat.pipeline.Pipeline.process("));
    assertThat(run.firstAlertSeconds()).isNotNull().isLessThan(5.0);
    assertThat(run.killSwitchOpenSeconds()).as("kill switch opened").isNotNull().isLessThan(5.0);
    assertThat(run.killSwitchClosedSeconds())
        .as("kill switch closed after the good pack")
        .isNotNull();
    assertThat(run.phase("recovered").successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(table)
        .contains("with Firebreak")
        .contains("rule emoji-recursion")
        .contains("EmojiRenderer.expand");
  }

  /**
   * Issue 19, 2: with the rollback loop the service restores the good pack by itself on Firebreak's
   * webhook (and closes the switch), so rendering is back within 5 s of the bad deploy, with no
   * pack deployed by hand.
   */
  @SuppressWarnings("unchecked")
  @Test
  void withTheRollbackLoopRenderingIsBackWithinFiveSeconds(@TempDir Path dir) throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Path report = dir.resolve("replay.html");
    StringBuilder table = new StringBuilder();
    Replay.Report r =
        replay(
            agent,
            false,
            true,
            Duration.ofSeconds(3),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ofSeconds(8),
            true,
            report,
            table);
    Replay.RunResult run = r.withAgent();
    assertThat(run.note()).isNull();
    assertThat(run.label()).isEqualTo("with Firebreak + rollback");
    assertThat(run.phase("after").successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(run.rollbackSeconds())
        .as("the pack rolled back by itself")
        .isNotNull()
        .isLessThan(5.0);
    assertThat(run.recoverySeconds())
        .as("bad deploy to normal rendering")
        .isNotNull()
        .isLessThanOrEqualTo(5.0);
    assertThat(run.phase("after").renderedPct())
        .as("emoji rendered during the incident")
        .isGreaterThan(50.0);
    assertThat(table).contains("good pack restored").contains("by itself");

    Map<String, Object> json = Replay.toJson(r);
    List<Map<String, Object>> runs = (List<Map<String, Object>>) json.get("runs");
    assertThat(runs).hasSize(1);
    assertThat(runs.get(0))
        .containsEntry("name", "with Firebreak + rollback")
        .containsEntry("agent", true)
        .containsKeys(
            "rules",
            "delivered_after_pct",
            "p99_after_ms",
            "first_alert_s",
            "recovery_s",
            "rendered_pct");
    assertThat(runs.get(0).get("recovery_s")).isEqualTo(run.recoverySeconds());

    // issue 19, 3: the report holds the run's series and its markers, as a chart and as data
    String html = Files.readString(report);
    String svg = Files.readString(dir.resolve("replay.svg"));
    assertThat(svg).startsWith("<?xml").contains("<svg").contains("with Firebreak + rollback");
    assertThat(html).contains("<svg").contains("seconds from the bad deploy");
    for (String marker : List.of("bad deploy", "first alert", "switch open", "rollback")) {
      assertThat(svg).as("marker " + marker).contains(marker);
    }
    String open = "<script type=\"application/json\" id=\"replay-data\">";
    String data = html.substring(html.indexOf(open) + open.length(), html.lastIndexOf("</script>"));
    Map<String, Object> parsed = com.acme.chat.util.Json.parseObject(data);
    Map<String, Object> series = ((List<Map<String, Object>>) parsed.get("runs")).get(0);
    assertThat((List<?>) series.get("seconds"))
        .as("one point per second of the run")
        .hasSizeGreaterThan(20);
    assertThat((List<Map<String, Object>>) series.get("markers"))
        .extracting(m -> m.get("what"))
        .contains("first alert", "switch open", "rollback");
  }

  /**
   * Issue 19, 1: {@code --rules FILE} adds a run with Firebreak and FILE beside the run with the
   * SRE's rules, and that run uses FILE: here a copy of the SRE's file whose recursion rule has
   * another name and depth, so the alerts tell which file each run had.
   */
  @SuppressWarnings("unchecked")
  @Test
  void aFurtherRulesFileGetsARunOfItsOwnBesideTheDefault(@TempDir Path dir) throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    String text = Files.readString(ItSupport.rules());
    String renamed = "{name: emoji-recursion, depth: 32, action: trip}";
    assertThat(text).contains(renamed);
    Path mine =
        Files.writeString(
            dir.resolve("my-rules.yaml"),
            text.replace(renamed, "{name: my-recursion, depth: 24, action: trip}"));
    StringBuilder table = new StringBuilder();
    Replay.Report r =
        replay(
            agent,
            false,
            true,
            Duration.ofSeconds(2),
            Duration.ofSeconds(3),
            Duration.ofSeconds(5),
            Duration.ofSeconds(8),
            false,
            null,
            List.of(mine),
            table);
    assertThat(r.runs())
        .extracting(Replay.RunResult::label)
        .containsExactly("with Firebreak", "with my-rules");
    Replay.RunResult dflt = r.run("with Firebreak");
    Replay.RunResult more = r.run("with my-rules");
    assertThat(dflt.note()).isNull();
    assertThat(more.note()).isNull();
    assertThat(dflt.rules()).isEqualTo(ItSupport.rules().toString());
    assertThat(more.rules()).isEqualTo(mine.toString());
    assertThat(dflt.alert())
        .containsEntry("rule", "emoji-recursion")
        .containsEntry("threshold", 32L);
    assertThat(more.alert())
        .as("the run with my-rules.yaml alerts with its rule")
        .containsEntry("rule", "my-recursion")
        .containsEntry("threshold", 24L)
        .containsEntry("target", "emoji-render");
    assertThat(more.phase("after").successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(more.stackOverflows()).isZero();
    assertThat(more.firstOverflowSeconds()).isNull();
    assertThat(table)
        .contains("with my-rules: the rules file " + mine)
        .contains("first alert (with my-rules): rule my-recursion");
    List<Map<String, Object>> runs = (List<Map<String, Object>>) Replay.toJson(r).get("runs");
    assertThat(runs)
        .extracting(m -> m.get("rules"))
        .containsExactly(ItSupport.rules().toString(), mine.toString());
  }

  /**
   * Issue 19, 1: the recursion nobody named. rules/auto-fence.yaml names no method; the agent
   * fences the renderer's cycle by itself, so delivery holds (at least 99 % after the bad deploy)
   * and an alert with rule auto-fence names EmojiRenderer.expand. The first runaway may overflow
   * its stack before the fence is up; later ones get the fallback. The report marks the fence. With
   * --auto-rollback, as the README runs it: each run has an admin token of its own.
   */
  @SuppressWarnings("unchecked")
  @Test
  void theAutoFenceStopsTheRecursionNobodyNamed(@TempDir Path dir) throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Path fenceRules = ItSupport.rules().resolveSibling("auto-fence.yaml");
    assertThat(Files.readString(fenceRules)).doesNotContain("EmojiRenderer");
    Path report = dir.resolve("replay.html");
    StringBuilder table = new StringBuilder();
    Replay.Report r =
        replay(
            agent,
            false,
            true,
            Duration.ofSeconds(3),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            Duration.ofSeconds(8),
            true, // with the rollback too: every run gets its own admin token
            report,
            List.of(fenceRules),
            table);
    Replay.RunResult run = r.run("with auto-fence + rollback");
    assertThat(run).as("a run with rules/auto-fence.yaml").isNotNull();
    assertThat(run.note()).isNull();
    assertThat(run.autoFence()).isTrue();
    assertThat(run.rules()).isEqualTo(fenceRules.toString());
    assertThat(run.phase("before").successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(run.phase("after").successPct())
        .as("success after the bad deploy, with only an auto-fence")
        .isGreaterThanOrEqualTo(99.0);
    assertThat(run.deadLettered()).isZero();

    assertThat(run.fenceSeconds()).as("the fence went up").isNotNull().isLessThan(5.0);
    Map<String, Object> alert = run.alert();
    assertThat(alert).as("an alert event after the bad deploy").isNotNull();
    assertThat(alert)
        .containsEntry("rule", "auto-fence")
        .containsEntry("target", "auto-emojirenderer-expand");
    assertThat((String) alert.get("method")).startsWith("expand(");
    assertThat(Json.write(alert)).contains("EmojiRenderer.expand");
    assertThat(run.rendererAlertSeconds()).isNotNull().isLessThan(5.0);
    if (run.firstOverflowSeconds() != null) {
      assertThat(run.fenceSeconds())
          .as("the fence within a second of the first overflow")
          .isLessThanOrEqualTo(run.firstOverflowSeconds() + 1.0);
    }
    assertThat(table)
        .contains("with auto-fence")
        .contains("auto-fence in place after the bad deploy")
        .contains("rule auto-fence on target auto-emojirenderer-expand");

    List<Map<String, Object>> runs = (List<Map<String, Object>>) Replay.toJson(r).get("runs");
    assertThat(runs.get(runs.size() - 1))
        .containsEntry("name", "with auto-fence + rollback")
        .containsEntry("agent", true)
        .containsEntry("rules", fenceRules.toString())
        .containsEntry("fence_s", run.fenceSeconds())
        .containsKeys(
            "delivered_after_pct", "p99_after_ms", "first_alert_s", "recovery_s", "rendered_pct");

    String svg = Files.readString(dir.resolve("replay.svg"));
    assertThat(svg).contains("with auto-fence").contains("fence (");
    String html = Files.readString(report);
    String open = "<script type=\"application/json\" id=\"replay-data\">";
    String data = html.substring(html.indexOf(open) + open.length(), html.lastIndexOf("</script>"));
    Map<String, Object> series =
        ((List<Map<String, Object>>) Json.parseObject(data).get("runs"))
            .stream()
                .filter(m -> "with auto-fence + rollback".equals(m.get("name")))
                .findFirst()
                .orElseThrow();
    assertThat((List<Map<String, Object>>) series.get("markers"))
        .extracting(m -> m.get("what"))
        .contains("fence");
  }
}
