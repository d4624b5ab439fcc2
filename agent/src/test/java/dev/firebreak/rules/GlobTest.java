package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GlobTest {

  @Test
  void singleStarStaysInsideOnePackageSegment() {
    Glob g = Glob.forClass("com.acme.*Service");
    assertThat(g.matches("com.acme.ChatService")).isTrue();
    assertThat(g.matches("com.acme.Service")).isTrue();
    assertThat(g.matches("com.acme.chat.ChatService")).isFalse();
    assertThat(g.matches("com.acmeX.ChatService")).isFalse();
    assertThat(g.literalPrefix()).isEqualTo("com.acme.");
    assertThat(g.isLiteral()).isFalse();
  }

  @Test
  void doubleStarCrossesSegments() {
    Glob g = Glob.forClass("com.acme.**");
    assertThat(g.matches("com.acme.A")).isTrue();
    assertThat(g.matches("com.acme.chat.render.EmojiRenderer")).isTrue();
    assertThat(g.matches("com.acmex.A")).isFalse();
    assertThat(Glob.forClass("com.**.Renderer").matches("com.a.b.Renderer")).isTrue();
    assertThat(Glob.forClass("**").matches("java.lang.String")).isTrue();
    assertThat(Glob.forClass("**").literalPrefix()).isEmpty();
  }

  @Test
  void questionMarkIsOneCharacterInsideASegment() {
    Glob g = Glob.forClass("com.acme.V?");
    assertThat(g.matches("com.acme.V1")).isTrue();
    assertThat(g.matches("com.acme.V12")).isFalse();
    assertThat(Glob.forClass("com?acme").matches("com.acme")).isFalse();
  }

  @Test
  void literalGlobsMatchOnlyThemselvesAndDollarIsLiteral() {
    Glob g = Glob.forClass("com.acme.Outer$Inner");
    assertThat(g.isLiteral()).isTrue();
    assertThat(g.literalPrefix()).isEqualTo("com.acme.Outer$Inner");
    assertThat(g.matches("com.acme.Outer$Inner")).isTrue();
    assertThat(g.matches("com.acme.OuterXInner")).isFalse();
    assertThat(g.matches(null)).isFalse();
    assertThat(Glob.forClass("java.util.concurrent.*").literalPrefix())
        .isEqualTo("java.util.concurrent.");
  }

  @Test
  void methodGlobs() {
    Glob g = Glob.forMethod("expand*");
    assertThat(g.matches("expand")).isTrue();
    assertThat(g.matches("expandAll")).isTrue();
    assertThat(g.matches("reexpand")).isFalse();
    assertThat(Glob.forMethod("*").matches("anything")).isTrue();
    assertThat(Glob.forMethod("get?").matches("getX")).isTrue();
    assertThat(Glob.forMethod("run").isLiteral()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "com..x",
        ".com",
        "com.",
        "a/b",
        "com.acme.Foo Bar",
        "com.1x",
        "a***",
        "a-b",
        "a[b]",
        "a\u0000b"
      })
  void invalidClassGlobs(String text) {
    assertThatThrownBy(() -> Glob.forClass(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "expected a class glob like com.acme.*Service or com.acme.**, found ");
    assertThat(Glob.problem(text, Glob.Kind.CLASS)).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a.b", "a**", "a(b)", "a b"})
  void invalidMethodGlobs(String text) {
    assertThatThrownBy(() -> Glob.forMethod(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("expected a method glob like expand* or *, found ");
  }

  @Test
  void errorMessagesSayWhatIsWrong() {
    assertThat(Glob.problem("com..x", Glob.Kind.CLASS))
        .endsWith("found \"com..x\" (empty package segment)");
    assertThat(Glob.problem("a/b", Glob.Kind.CLASS))
        .endsWith("found \"a/b\" ('/' is not allowed in a Java name)");
    assertThat(Glob.problem("com.acme.*", Glob.Kind.CLASS)).isNull();
  }

  @Test
  void everyMessageExactly() {
    String c = "expected a class glob like com.acme.*Service or com.acme.**";
    String m = "expected a method glob like expand* or *";
    assertThat(Glob.problem("", Glob.Kind.CLASS)).isEqualTo(c + ", found an empty glob");
    assertThat(Glob.problem(null, Glob.Kind.METHOD)).isEqualTo(m + ", found an empty glob");
    assertThat(Glob.problem("a.***", Glob.Kind.CLASS))
        .isEqualTo(c + ", found \"a.***\" ('***' is not a wildcard)");
    assertThat(Glob.problem("a**", Glob.Kind.METHOD))
        .isEqualTo(m + ", found \"a**\" ('**' is for class globs; use '*')");
    assertThat(Glob.problem("a.b", Glob.Kind.METHOD))
        .isEqualTo(m + ", found \"a.b\" ('.' is not allowed in a method name)");
    assertThat(Glob.problem(".a", Glob.Kind.CLASS))
        .isEqualTo(c + ", found \".a\" (empty package segment)");
    assertThat(Glob.problem("a.", Glob.Kind.CLASS))
        .isEqualTo(c + ", found \"a.\" (empty package segment at the end)");
    assertThat(Glob.problem("a.1b", Glob.Kind.CLASS))
        .isEqualTo(c + ", found \"a.1b\" (a name cannot start with a digit)");
    assertThat(Glob.problem("a b", Glob.Kind.METHOD))
        .isEqualTo(m + ", found \"a b\" (' ' is not allowed in a Java name)");
    assertThat(Glob.problem("a\u0000b", Glob.Kind.CLASS))
        .isEqualTo(c + ", found \"a\\u0000b\" ('\\u0000' is not allowed in a Java name)");
  }

  @Test
  void unicodeJavaNamesAreAllowed() {
    assertThat(Glob.forClass("com.acme.Café*").matches("com.acme.CaféBar")).isTrue();
  }
}
