package com.acme.chat.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EmojiRendererTest {
  private final EmojiRenderer renderer = new EmojiRenderer(EmojiPack.shipped("default"));

  @Test
  void expandsShortcodesAndAliases() {
    assertThat(renderer.render("ship it :rocket: :+1:")).isEqualTo("ship it 🚀 👍");
    assertThat(renderer.render(":rofl:")).isEqualTo("😂"); // rofl -> lol -> joy
    assertThat(renderer.render("we did it :celebrate:"))
        .isEqualTo("we did it 🎉"); // celebrate -> party -> tada
    assertThat(renderer.render(":yolo:")).isEqualTo("🚢"); // yolo -> shipit -> ship
  }

  @Test
  void leavesUnknownShortcodesAndOtherColonsAlone() {
    assertThat(renderer.render("at 10:30 :nope: :smile:")).isEqualTo("at 10:30 :nope: 😄");
    assertThat(renderer.render("a: b :c")).isEqualTo("a: b :c");
    assertThat(renderer.render("plain text")).isEqualTo("plain text");
    assertThat(renderer.render("::")).isEqualTo("::");
  }

  @Test
  void maxAliasDepthBoundsTheRecursion() {
    EmojiPack chain =
        new EmojiPack(
            "chain",
            "1",
            2,
            EmojiPack.Resolution.RECURSIVE,
            Map.of("x", "X"),
            Map.of("a", "b", "b", "c", "c", "x"));
    EmojiRenderer r = new EmojiRenderer(chain);
    assertThat(r.render(":c:")).isEqualTo("X");
    assertThat(r.render(":b:")).isEqualTo("X");
    assertThat(r.render(":a:")).isEqualTo(":x:"); // a -> b -> c -> x needs 3 levels; 2 are allowed
  }

  @Test
  void iterativeResolutionFollowsChainsWithTheSameBound() {
    EmojiPack chain =
        new EmojiPack(
            "chain",
            "1",
            2,
            EmojiPack.Resolution.ITERATIVE,
            Map.of("x", "X"),
            Map.of("a", "b", "b", "c", "c", "x"));
    EmojiRenderer r = new EmojiRenderer(chain);
    assertThat(r.render(":b: :c:")).isEqualTo("X X");
    assertThat(r.render(":a:")).isEqualTo(":x:");
  }

  @Test
  void theBadUpdateRecursesUntilTheStackOverflows() throws Exception {
    renderer.deploy(EmojiPack.shipped("bad-update"));
    assertThat(renderer.render("plain :smile:"))
        .isEqualTo("plain 😄"); // harmless messages still render
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                renderer.render("release is out :tada:");
              } catch (Throwable e) {
                thrown.set(e);
              }
            },
            "worker-test");
    t.start();
    t.join(30_000);
    assertThat(thrown.get()).isInstanceOf(StackOverflowError.class);
  }

  @Test
  void deployReturnsThePreviousPack() {
    EmojiPack previous = renderer.deploy(EmojiPack.shipped("bad-update"));
    assertThat(previous.version()).isEqualTo("2024.11.0");
    assertThat(renderer.pack().maxAliasDepth()).isEqualTo(-1);
  }

  @Test
  void theLoopVariantNeverReturnsOnItsOwn() {
    // With a finite bound the same chain shows the shape: one lookup per turn, forever when
    // unbounded.
    EmojiPack loop = EmojiPack.shipped("bad-update-loop");
    assertThat(loop.resolution()).isEqualTo(EmojiPack.Resolution.ITERATIVE);
    assertThat(loop.maxAliasDepth()).isEqualTo(-1);
    EmojiPack bounded =
        new EmojiPack(
            "loop", "1", 100_000, EmojiPack.Resolution.ITERATIVE, loop.emojis(), loop.aliases());
    long start = System.nanoTime();
    assertThat(new EmojiRenderer(bounded).render(":tada:")).isIn(":tada:", ":party:");
    assertThat(System.nanoTime() - start).isPositive();
  }

  @Test
  void nullTextIsAProgrammingError() {
    assertThatThrownBy(() -> renderer.render(null)).isInstanceOf(NullPointerException.class);
  }
}
