package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.alert.AlertEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC section 4 {@code argument}: shape without content, unless {@code capture-argument: true}. */
class ArgumentEvidenceTest {
  private static final MethodInfo EXPAND =
      new MethodInfo(0, "a.R", "expand", "(Ljava/lang/String;I)Ljava/lang/String;", "expand(String,int)",
          "java.lang.String", List.of("java.lang.String", "int"), "t");

  private static String sha(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void describesTypeLengthAndDigestButNotTheContent() throws Exception {
    AlertEvent.ArgumentInfo a = Engine.describe("hi :tada: ✓", EXPAND, false);
    assertThat(a.index()).isZero();
    assertThat(a.type()).isEqualTo("String");
    assertThat(a.length()).isEqualTo(11);
    assertThat(a.sha256()).isEqualTo(sha("hi :tada: ✓"));
    assertThat(a.value()).isNull();
  }

  @Test
  void capturesAtMost200CharactersWhenTheTargetAsks() {
    String big = "x".repeat(300);
    assertThat(Engine.describe("short", EXPAND, true).value()).isEqualTo("short");
    assertThat(Engine.describe(big, EXPAND, true).value()).hasSize(200);
    assertThat(Engine.describe(big, EXPAND, true).length()).isEqualTo(300);
  }

  @Test
  void collectionsAndArraysHaveASizeOtherObjectsOnlyAType() {
    assertThat(Engine.describe(List.of(1, 2, 3), EXPAND, true).length()).isEqualTo(3);
    assertThat(Engine.describe(List.of(1, 2, 3), EXPAND, true).value()).isNull();
    assertThat(Engine.describe(new int[7], EXPAND, false).length()).isEqualTo(7);
    AlertEvent.ArgumentInfo other = Engine.describe(new Object(), EXPAND, true);
    assertThat(other.type()).isEqualTo("Object");
    assertThat(other.length()).isEqualTo(-1);
    assertThat(other.sha256()).isNull();
    assertThat(Engine.describe(null, EXPAND, true).type()).isEqualTo("String");
  }
}
