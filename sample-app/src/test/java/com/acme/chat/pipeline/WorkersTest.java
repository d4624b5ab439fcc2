package com.acme.chat.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.acme.chat.model.Message;
import com.acme.chat.render.EmojiPack;
import com.acme.chat.render.EmojiRenderer;
import com.acme.chat.util.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class WorkersTest {
  private final MessageStore store = new MessageStore();
  private final EmojiRenderer renderer = new EmojiRenderer(EmojiPack.shipped("default"));
  private final Pipeline pipeline =
      new Pipeline(new MessageParser(), renderer, new MessageSerializer(), store, Duration.ZERO);

  private static Message msg(String id, String text) {
    return new Message(id, "general", "ana", text, null, 0, 0);
  }

  @Test
  void deliversRenderedMessagesToTheirRoom() throws Exception {
    try (Workers w =
        new Workers(
            pipeline,
            new Workers.Settings(2, 16, 3, Duration.ofMillis(1), Duration.ofMillis(5)),
            new DeadLetters())) {
      assertThat(w.submit(msg("m-1", "  hi   :wave: "), Duration.ofSeconds(1))).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(() -> w.delivered() == 1);
      MessageStore.Stored s = store.read("general", 0, 10).get(0);
      assertThat(s.seq()).isEqualTo(1);
      assertThat(s.json())
          .contains("\"text\":\"hi 👋\"")
          .contains("\"raw\":\"hi :wave:\"")
          .contains("\"id\":\"m-1\"");
      assertThat(store.read("general", 1, 10)).isEmpty();
    }
  }

  @Test
  void retriesWithBackoffThenDeadLetters() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Pipeline failing =
        new Pipeline(new MessageParser(), renderer, new MessageSerializer(), store, Duration.ZERO) {
          @Override
          public void process(Message m) {
            calls.incrementAndGet();
            throw new IllegalStateException("boom");
          }
        };
    DeadLetters dead = new DeadLetters();
    try (Workers w =
        new Workers(
            failing,
            new Workers.Settings(1, 4, 2, Duration.ofMillis(1), Duration.ofMillis(2)),
            dead)) {
      w.submit(msg("m-9", "x"), Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(5)).until(() -> dead.count() == 1);
      assertThat(calls.get()).isEqualTo(3); // the first attempt and 2 retries
      assertThat(w.retries()).isEqualTo(2);
      DeadLetters.Entry e = dead.recent().get(0);
      assertThat(e.id()).isEqualTo("m-9");
      assertThat(e.attempts()).isEqualTo(3);
      assertThat(e.error()).isEqualTo("java.lang.IllegalStateException: boom");
    }
  }

  @Test
  void countsTheAttemptsThatOverflowedTheStackAndWhenTheFirstDid() throws Exception {
    Pipeline bad =
        new Pipeline(
            new MessageParser(),
            new EmojiRenderer(EmojiPack.shipped("bad-update")),
            new MessageSerializer(),
            store,
            Duration.ZERO);
    DeadLetters dead = new DeadLetters();
    try (Workers w =
        new Workers(
            bad, new Workers.Settings(1, 4, 1, Duration.ofMillis(1), Duration.ofMillis(1)), dead)) {
      w.submit(msg("m-ok", "no shortcode here"), Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(5)).until(() -> w.delivered() == 1);
      assertThat(w.stackOverflows()).isZero();
      assertThat(w.firstStackOverflowMicros()).isZero();

      long before = Clock.nowMicros();
      w.submit(msg("m-tada", "congrats :tada:"), Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> dead.count() == 1);
      assertThat(w.stackOverflows()).as("the attempt and its retry").isEqualTo(2);
      assertThat(w.firstStackOverflowMicros()).isBetween(before, Clock.nowMicros());
      assertThat(dead.recent().get(0).error()).startsWith("java.lang.StackOverflowError");
    }
  }

  @Test
  void aFullQueueRejectsNewMessages() throws Exception {
    Pipeline slow =
        new Pipeline(
            new MessageParser(), renderer, new MessageSerializer(), store, Duration.ofSeconds(30));
    try (Workers w =
        new Workers(
            slow,
            new Workers.Settings(1, 1, 0, Duration.ofMillis(1), Duration.ofMillis(1)),
            new DeadLetters())) {
      assertThat(w.submit(msg("a", "x"), Duration.ofSeconds(1))).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(() -> w.inFlight() == 1);
      assertThat(w.submit(msg("b", "x"), Duration.ofSeconds(1))).isTrue();
      assertThat(w.submit(msg("c", "x"), Duration.ofMillis(20))).isFalse();
      assertThat(w.rejected()).isEqualTo(1);
    }
  }

  @Test
  void invalidMessagesAreDeadLetteredWithoutRetries() throws Exception {
    DeadLetters dead = new DeadLetters();
    try (Workers w =
        new Workers(
            pipeline,
            new Workers.Settings(1, 4, 5, Duration.ofMillis(1), Duration.ofMillis(1)),
            dead)) {
      w.submit(msg("m-2", "   "), Duration.ofSeconds(1));
      await().atMost(Duration.ofSeconds(5)).until(() -> dead.count() == 1);
      assertThat(w.retries()).isZero();
    }
  }

  @Test
  void theStoreKeepsSequenceNumbersAcrossTrimming() {
    MessageStore s = new MessageStore();
    for (int i = 0; i < MessageStore.RETAINED + 10; i++) s.append("r", "{}");
    assertThat(s.read("r", 0, 1).get(0).seq()).isGreaterThan(1);
    assertThat(s.read("r", MessageStore.RETAINED + 5, 100))
        .extracting(MessageStore.Stored::seq)
        .containsExactly(
            (long) MessageStore.RETAINED + 6,
            (long) MessageStore.RETAINED + 7,
            (long) MessageStore.RETAINED + 8,
            (long) MessageStore.RETAINED + 9,
            (long) MessageStore.RETAINED + 10);
    assertThat(s.read("nope", 0, 10)).isEmpty();
  }

  @Test
  void aFullRoomKeepsExactlyItsRetentionTheNewestFirstOut() {
    MessageStore s = new MessageStore(40);
    for (int i = 1; i <= 30; i++) s.append("r", "{\"n\":" + i + "}");
    assertThat(s.read("r", 0, 100))
        .hasSize(30)
        .first()
        .satisfies(m -> assertThat(m.seq()).isEqualTo(1));
    for (int i = 31; i <= 100; i++) s.append("r", "{\"n\":" + i + "}");
    List<MessageStore.Stored> all = s.read("r", 0, 100);
    assertThat(all).hasSize(40);
    assertThat(all)
        .extracting(MessageStore.Stored::seq)
        .isEqualTo(LongStream.rangeClosed(61, 100).boxed().toList());
    assertThat(all.get(0).json()).isEqualTo("{\"n\":61}");
    assertThat(s.read("r", 97, 100))
        .extracting(MessageStore.Stored::seq)
        .containsExactly(98L, 99L, 100L);
    assertThat(s.read("r", 70, 2)).extracting(MessageStore.Stored::seq).containsExactly(71L, 72L);
    assertThat(s.read("r", 100, 10)).isEmpty();
    assertThat(s.read("r", 500, 10)).isEmpty();
  }

  @Test
  void deadLettersArePagedInOrderAndTheNewestAreKept() {
    DeadLetters dead = new DeadLetters();
    int n = DeadLetters.RETAINED + 3;
    for (int i = 1; i <= n; i++)
      dead.add(msg("m-" + i, "x"), 1, new IllegalStateException("boom " + i));
    assertThat(dead.count()).isEqualTo(n);
    assertThat(dead.recent())
        .hasSize(DeadLetters.RECENT)
        .first()
        .satisfies(
            e -> {
              assertThat(e.id()).isEqualTo("m-" + n);
              assertThat(e.seq()).isEqualTo(n);
            });
    // the three oldest are gone; paging from 0 starts at the oldest kept
    assertThat(dead.after(0, 2)).extracting(DeadLetters.Entry::id).containsExactly("m-4", "m-5");
    assertThat(dead.after(n - 2, 10))
        .extracting(DeadLetters.Entry::error)
        .containsExactly(
            "java.lang.IllegalStateException: boom " + (n - 1),
            "java.lang.IllegalStateException: boom " + n);
    assertThat(dead.after(n, 10)).isEmpty();
  }
}
