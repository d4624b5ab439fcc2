package com.acme.chat.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmojiPackTest {
  @Test
  void shippedPacksLoad() {
    EmojiPack d = EmojiPack.shipped("default");
    assertThat(d.maxAliasDepth()).isEqualTo(8);
    assertThat(d.lookup("smile")).isEqualTo("😄");
    assertThat(d.lookup("happy")).isEqualTo(":smile:");
    assertThat(d.lookup("100")).isEqualTo("💯");
    assertThat(d.lookup("nope")).isNull();

    EmojiPack bad = EmojiPack.shipped("bad-update");
    assertThat(bad.maxAliasDepth()).isEqualTo(-1);
    assertThat(bad.resolution()).isEqualTo(EmojiPack.Resolution.RECURSIVE);
    // the alias cycle
    assertThat(bad.lookup("party")).isEqualTo(":tada:");
    assertThat(bad.lookup("tada")).isEqualTo(":party:");

    assertThat(EmojiPack.shipped("bad-update-loop").resolution())
        .isEqualTo(EmojiPack.Resolution.ITERATIVE);
  }

  @Test
  void unknownShippedPackIsRejected() {
    assertThatThrownBy(() -> EmojiPack.shipped("nope"))
        .isInstanceOf(EmojiPack.PackException.class)
        .hasMessageContaining("default, bad-update, bad-update-loop");
  }

  @Test
  void parsesJsonToo() {
    EmojiPack p =
        EmojiPack.parse(
            "{\"name\":\"mini\",\"max-alias-depth\":3,\"emojis\":{\"ok\":\"👌\"},\"aliases\":{\"fine\":\":ok:\"}}");
    assertThat(p.lookup("fine")).isEqualTo(":ok:");
    assertThat(p.version()).isEqualTo("unversioned");
  }

  @Test
  void rejectsBrokenPacks() {
    assertThatThrownBy(() -> EmojiPack.parse("name: x\nemojis: {a: A}\naliases: {b: zzz}"))
        .hasMessageContaining("alias 'b' points at unknown shortcode 'zzz'");
    assertThatThrownBy(() -> EmojiPack.parse("name: x\nmax-alias-depth: -2"))
        .hasMessageContaining("max-alias-depth");
    assertThatThrownBy(() -> EmojiPack.parse("name: x\ncolour: red"))
        .hasMessageContaining("unknown key 'colour'");
    assertThatThrownBy(() -> EmojiPack.parse("emojis: {a: A}")).hasMessageContaining("name");
    assertThatThrownBy(() -> EmojiPack.parse("name: x\nalias-resolution: magic"))
        .hasMessageContaining("alias-resolution");
    assertThatThrownBy(() -> EmojiPack.parse("[1, 2")).isInstanceOf(EmojiPack.PackException.class);
    assertThatThrownBy(() -> EmojiPack.parse("name: x\nemojis: {\"Bad Code\": A}"))
        .hasMessageContaining("bad shortcode");
  }
}
