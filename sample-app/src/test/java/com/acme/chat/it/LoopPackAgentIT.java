package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.replay.Replay;
import com.acme.chat.server.ChatServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The loop variant of the bad update (bad-update-loop) under open-loop load with the agent: the
 * call budget on EmojiPack.lookup breaks the loop, and the service keeps delivering.
 */
class LoopPackAgentIT {
  @SuppressWarnings("unchecked")
  @Test
  void theCallBudgetKeepsDeliveryAtOrAbove99PercentUnderTheLoopPack() throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Replay.Options o =
        new Replay.Options(
            ItSupport.appJar(),
            agent,
            ItSupport.rules(),
            200,
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(8),
            Duration.ofSeconds(2),
            Duration.ofSeconds(6),
            ChatServer.DEFAULT_MAX_RETRIES,
            "bad-update-loop",
            false,
            true,
            false,
            false,
            null);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Replay.Report r =
        new Replay(o, new PrintStream(buf, true, StandardCharsets.UTF_8), System.out).run();
    System.out.print(buf.toString(StandardCharsets.UTF_8));
    Replay.RunResult run = r.withAgent();
    assertThat(run.note()).isNull();
    LoadGenerator.Summary before = run.phase("before");
    LoadGenerator.Summary after = run.phase("after");
    assertThat(before.successPct()).isGreaterThanOrEqualTo(99.0);
    assertThat(after.successPct())
        .as("success after the loop pack, with the agent")
        .isGreaterThanOrEqualTo(99.0);
    assertThat(run.deadLettered()).isZero();
    Map<String, Object> alert = run.alert();
    assertThat(alert).as("an alert event after the bad deploy").isNotNull();
    assertThat(alert)
        .containsEntry("rule", "emoji-lookup-budget")
        .containsEntry("target", "emoji-lookup")
        .containsEntry("action", "trip")
        .containsEntry("value", 10001L)
        .containsEntry("threshold", 10000L);
    assertThat((List<String>) alert.get("stack"))
        .anySatisfy(l -> assertThat(l).startsWith("com.acme.chat.render.EmojiPack.lookup("))
        .anySatisfy(l -> assertThat(l).startsWith("com.acme.chat.pipeline.Pipeline.process("));
  }
}
