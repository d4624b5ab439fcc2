package dev.firebreak.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.rules.Glob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prescan's plain text scan reads every file as the regular expressions it replaced did ({@link
 * RegexPrescan}): the same class and method globs, or the same "cannot tell" (null). On the rules
 * corpus, and on generated texts made of the pieces that matter (keys, quotes, dashes, flow braces,
 * commas, colons, comments, line ends, names that contain the keys' words).
 */
class RulesPrescanOracleTest {
  private static List<String> texts(List<Glob> globs) {
    return globs == null ? null : globs.stream().map(Glob::toString).collect(Collectors.toList());
  }

  private static void sameAsTheOracle(byte[] yaml, String what) {
    assertThat(texts(RulesPrescan.classGlobs(yaml)))
        .as("class globs of %s", what)
        .isEqualTo(texts(RegexPrescan.classGlobs(yaml)));
    assertThat(texts(RulesPrescan.methodGlobs(yaml)))
        .as("method globs of %s", what)
        .isEqualTo(texts(RegexPrescan.methodGlobs(yaml)));
  }

  @ParameterizedTest
  @MethodSource("dev.firebreak.agent.RulesPrescanTest#corpus")
  void readsTheCorpusAsTheRegularExpressionsDid(Path file) throws Exception {
    sameAsTheOracle(Files.readAllBytes(file), file.toString());
  }

  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> piece =
        Arbitraries.of(
            "class",
            "method",
            "subtypes",
            "labels",
            "\"",
            "'",
            "- ",
            "-",
            " ",
            "  ",
            ":",
            ": ",
            "{",
            "}",
            ",",
            "[",
            "]",
            "#",
            " #",
            "\n",
            "\r\n",
            "\r",
            "a.b.C",
            "com.acme.*",
            "x*",
            "false",
            "true",
            "sub",
            "classy",
            ".class",
            "my-method",
            "$",
            "*",
            "&",
            "\\",
            "\t");
    return piece.list().ofMinSize(1).ofMaxSize(40).map(l -> String.join("", l));
  }

  @Property(tries = 20000)
  void readsGeneratedTextsAsTheRegularExpressionsDid(@ForAll("texts") String text) {
    sameAsTheOracle(text.getBytes(StandardCharsets.UTF_8), "\"" + text + "\"");
  }

  /** One key on a line, in the many ways it can be written or almost written. */
  @Provide
  Arbitrary<String> keyLines() {
    Arbitrary<String> line =
        net.jqwik.api.Combinators.combine(
                Arbitraries.of(
                    "", "  ", "- ", "  - ", "- - ", "-", "{", "{ ", ", ", ",", "[", "x ", "#"),
                Arbitraries.of("", "\"", "'"),
                Arbitraries.of("class", "method", "subtypes", "classy", "x.class", "labels"),
                Arbitraries.of("", "\"", "'"),
                Arbitraries.of(":", " :", ": ", "", ":  "),
                Arbitraries.of(
                    "a.b.C", "\"x*\"", "'y'", "", "false", "true", "&a", "*", "{", "a: b"),
                Arbitraries.of("", "}", ", method: m}", ",", " # c", "\n    more", "\n  next: 1"))
            .as((a, b, c, d, e, f, g) -> a + b + c + d + e + f + g);
    return line.list().ofMinSize(1).ofMaxSize(6).map(l -> String.join("\n", l) + "\n");
  }

  @Property(tries = 20000)
  void readsGeneratedKeyLinesAsTheRegularExpressionsDid(@ForAll("keyLines") String text) {
    sameAsTheOracle(text.getBytes(StandardCharsets.UTF_8), "\"" + text + "\"");
  }

  @Provide
  Arbitrary<String> targets() {
    Arbitrary<String> line =
        Arbitraries.of(
            "targets:",
            "  - name: t",
            "  - {name: t, class: a.B, method: \"x*\"}",
            "  - {name: t, 'class': a.B, \"method\" : y}",
            "    class: com.acme.**",
            "    class: 'com.acme.Q'",
            "    method: expand*",
            "    method: \"run\"",
            "    subtypes: false",
            "    subtypes: true",
            "    labels: {method: x}",
            "    labels:",
            "      method: y",
            "    # class: not.This",
            "    rules: [{name: r, depth: 3}]",
            "",
            "- - class: c.D",
            "    class:",
            "      next.Line",
            "    method: a # comment",
            "    method: a#b");
    return line.list().ofMinSize(1).ofMaxSize(12).map(l -> String.join("\n", l) + "\n");
  }

  @Property(tries = 20000)
  void readsGeneratedTargetsAsTheRegularExpressionsDid(@ForAll("targets") String text) {
    sameAsTheOracle(text.getBytes(StandardCharsets.UTF_8), "\"" + text + "\"");
  }
}
