package com.acme.chat.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.chat.render.EmojiPack;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PackRollbackTest {
  private static final long S = 1_000_000; // microseconds
  private final EmojiPack good = EmojiPack.shipped("default");
  private final EmojiPack bad = EmojiPack.shipped("bad-update");
  private final PackRollback rollback = new PackRollback(Duration.ofSeconds(60));

  private static Map<String, Object> trip() {
    return Map.of(
        "rule", "emoji-recursion",
        "target", "emoji-render",
        "method", "expand(String,int)",
        "action", "trip");
  }

  @Test
  void aTripSoonAfterAPackChangeRestoresThePackBefore() {
    rollback.deployed(good, bad, 100 * S);
    PackRollback.Decision d = rollback.onEvent(trip(), 101 * S);
    assertThat(d.rolledBack()).isTrue();
    assertThat(d.restored()).isSameAs(good);
    assertThat(d.reason()).contains("emoji-recursion", "emoji-render", "1.0 s after");
  }

  @Test
  void eachChangeIsRolledBackOnceAndOnlyWithinTheWindow() {
    rollback.deployed(good, bad, 100 * S);
    assertThat(rollback.onEvent(trip(), 161 * S).rolledBack()).as("61 s later").isFalse();
    rollback.deployed(good, bad, 200 * S);
    assertThat(rollback.onEvent(trip(), 201 * S).rolledBack()).isTrue();
    assertThat(rollback.onEvent(trip(), 202 * S).rolledBack())
        .as("the same change again")
        .isFalse();
  }

  @Test
  void alertsThatNeitherTripNorFenceAndResolvedEventsChangeNothing() {
    rollback.deployed(good, bad, 100 * S);
    Map<String, Object> alertOnly = Map.of("rule", "emoji-slow", "action", "alert");
    assertThat(rollback.onEvent(alertOnly, 101 * S).rolledBack()).isFalse();
    Map<String, Object> resolved = Map.of("rule", "x", "action", "trip", "resolved", true);
    assertThat(rollback.onEvent(resolved, 101 * S).rolledBack()).isFalse();
    Map<String, Object> fence =
        Map.of("rule", "auto-fence", "target", "auto-emojirenderer-expand", "action", "limit");
    assertThat(rollback.onEvent(fence, 101 * S).rolledBack()).as("a fence").isTrue();
  }

  @Test
  void withoutAPackChangeThereIsNothingToRollBack() {
    assertThat(rollback.onEvent(trip(), 101 * S).rolledBack()).isFalse();
  }
}
