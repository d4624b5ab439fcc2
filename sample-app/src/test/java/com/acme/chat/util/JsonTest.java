package com.acme.chat.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  @SuppressWarnings("unchecked")
  void parsesTheUsualShapes() {
    Map<String, Object> m =
        Json.parseObject(
            " {\"a\": 1, \"b\": [true, false, null, -2.5e1], \"c\": {\"d\": \"x\\\"y\\u00e9\\n\"}} ");
    assertThat(m.get("a")).isEqualTo(1L);
    assertThat((List<Object>) m.get("b")).containsExactly(true, false, null, -25.0);
    assertThat(((Map<?, ?>) m.get("c")).get("d")).isEqualTo("x\"yé\n");
    assertThat(Json.parse("[]")).isEqualTo(List.of());
    assertThat(Json.parse("{}")).isEqualTo(Map.of());
  }

  @Test
  void rejectsMalformedInput() {
    for (String bad :
        new String[] {
          "",
          "{",
          "{\"a\" 1}",
          "[1,]",
          "{\"a\":1,}",
          "\"x",
          "tru",
          "{} x",
          "{\"a\":\"\u0001\"}",
          "01x"
        }) {
      assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(Json.JsonException.class);
    }
  }

  @Test
  void writesAndRoundTrips() {
    Map<String, Object> m =
        Json.obj(
            "s",
            "a\"b\\c\n\t\u0002🎉",
            "n",
            3,
            "d",
            1.5,
            "whole",
            2.0,
            "l",
            List.of(1, "x"),
            "z",
            null,
            "raw",
            new Json.RawJson("{\"k\":1}"));
    String text = Json.write(m);
    assertThat(text)
        .isEqualTo(
            "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0002🎉\",\"n\":3,\"d\":1.5,\"whole\":2.0,\"l\":[1,\"x\"],\"z\":null,\"raw\":{\"k\":1}}");
    Map<String, Object> back = Json.parseObject(text);
    assertThat(back.get("s")).isEqualTo("a\"b\\c\n\t\u0002🎉");
  }

  @Test
  void durations() {
    assertThat(Args.parseDuration("250ms").toMillis()).isEqualTo(250);
    assertThat(Args.parseDuration("1.5s").toMillis()).isEqualTo(1500);
    assertThat(Args.parseDuration("2m").toSeconds()).isEqualTo(120);
    assertThat(Args.parseDuration("1h").toMinutes()).isEqualTo(60);
    assertThat(Args.parseDuration("3").toSeconds()).isEqualTo(3);
    assertThatThrownBy(() -> Args.parseDuration("soon"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void options() {
    Args a =
        new Args(List.of("--port", "9", "--json", "--rate=5.5", "x"), java.util.Set.of("json"));
    assertThat(a.integer("port", 1)).isEqualTo(9);
    assertThat(a.flag("json")).isTrue();
    assertThat(a.decimal("rate", 1)).isEqualTo(5.5);
    assertThat(a.positional()).containsExactly("x");
    a.rejectUnknown();
    Args b = new Args(List.of("--what", "1"), java.util.Set.of());
    assertThatThrownBy(b::rejectUnknown).hasMessageContaining("--what");
    assertThatThrownBy(() -> new Args(List.of("--port"), java.util.Set.of()))
        .hasMessageContaining("needs a value");
    assertThatThrownBy(
            () -> new Args(List.of("--port", "x"), java.util.Set.of()).integer("port", 1))
        .hasMessageContaining("integer");
  }

  @Test
  void anOptionGivenTwiceKeepsEveryValueInOrder() {
    Args a =
        new Args(List.of("--rules", "a.yaml", "--rate", "1", "--rules=b.yaml"), java.util.Set.of());
    assertThat(a.strings("rules")).containsExactly("a.yaml", "b.yaml");
    assertThat(a.string("rules", null)).isEqualTo("b.yaml");
    assertThat(a.strings("nothing")).isEmpty();
    a.integer("rate", 0);
    a.rejectUnknown();
  }
}
