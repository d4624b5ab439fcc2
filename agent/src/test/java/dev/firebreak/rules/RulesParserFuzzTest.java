package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a rules file holds, the parser answers with a RuleSet or a RulesException, quickly. */
class RulesParserFuzzTest {
  private static final List<byte[]> BASES = bases();
  private static final byte[] YAML_SPECIALS = ":-[]{},&*!#|>'\"%@`?\n\t ".getBytes();

  private static List<byte[]> bases() {
    try {
      List<byte[]> bases = new ArrayList<>();
      for (String name :
          List.of(
              "valid/spec-example.yaml",
              "valid/block-style.yaml",
              "valid/minimal.yaml",
              "invalid/alias-bomb.yaml",
              "invalid/merge-key.yaml",
              "invalid/of-unknown-target.yaml",
              "invalid/two-conditions.yaml",
              "invalid/latency-missing-window.yaml",
              "invalid/bad-label-name.yaml",
              "invalid/java-tag.yaml",
              "invalid/multi-document.yaml",
              "invalid/deep-nesting.yaml",
              "invalid/complex-key.yaml",
              "invalid/calls-missing-of.yaml",
              "invalid/unknown-rule-key.yaml",
              "invalid/duration-too-long.yaml")) {
        bases.add(
            Files.readAllBytes(
                RulesParserTest.resources(name.substring(0, name.indexOf('/')))
                    .resolve(name.substring(name.indexOf('/') + 1))));
      }
      return bases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** kind: what to do; at, to: positions as fractions of the length; value: a byte to use. */
  record Mutation(int kind, double at, double to, byte value) {}

  @Provide
  Arbitrary<byte[]> mutatedRules() {
    Arbitrary<Mutation> mutation =
        Combinators.combine(
                Arbitraries.integers().between(0, 7),
                Arbitraries.doubles().between(0, 1),
                Arbitraries.doubles().between(0, 1),
                Arbitraries.bytes())
            .as(Mutation::new);
    return Combinators.combine(
            Arbitraries.integers().between(0, BASES.size() - 1),
            mutation.list().ofMinSize(1).ofMaxSize(6))
        .as(
            (base, mutations) -> {
              byte[] content = BASES.get(base);
              for (Mutation m : mutations) {
                content = apply(content, m);
              }
              return content;
            });
  }

  @Property(tries = 600)
  void parseReturnsRulesOrReportsErrorsAndNothingElse(@ForAll("mutatedRules") byte[] content) {
    assertTimeoutPreemptively(
        Duration.ofSeconds(2),
        () -> {
          try {
            RuleSet rules = RulesParser.parse("fuzz.yaml", content);
            assertThat(rules.version()).isEqualTo(1);
          } catch (RulesException e) {
            assertThat(e.errors()).isNotEmpty();
            assertThat(e.errors())
                .allSatisfy(
                    error -> {
                      assertThat(error.file()).isEqualTo("fuzz.yaml");
                      assertThat(error.line()).isPositive();
                      assertThat(error.column()).isPositive();
                      assertThat(error.message())
                          .isNotBlank()
                          .doesNotContain("\n")
                          .doesNotContain("internal error");
                    });
            assertThat(e.errors())
                .isSortedAccordingTo(
                    Comparator.comparingInt(RuleError::line).thenComparingInt(RuleError::column));
          }
        });
  }

  static byte[] apply(byte[] in, Mutation m) {
    int n = in.length;
    int at = (int) (m.at() * n);
    int to = Math.min(n, at + 1 + (int) (m.to() * 16));
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 64);
    switch (m.kind()) {
      case 0 -> { // delete a few bytes
        out.write(in, 0, at);
        out.write(in, to, n - to);
      }
      case 1 -> { // insert a random byte
        out.write(in, 0, at);
        out.write(m.value());
        out.write(in, at, n - at);
      }
      case 2 -> { // insert a character YAML gives meaning to
        out.write(in, 0, at);
        out.write(YAML_SPECIALS[Math.floorMod(m.value(), YAML_SPECIALS.length)]);
        out.write(in, at, n - at);
      }
      case 3 -> { // replace a byte
        byte[] copy = in.clone();
        if (n > 0) {
          copy[Math.min(at, n - 1)] = m.value();
        }
        return copy;
      }
      case 4, 5, 6 -> { // delete, duplicate or move a line
        List<byte[]> lines = lines(in);
        if (lines.isEmpty()) {
          return in;
        }
        int i = Math.min((int) (m.at() * lines.size()), lines.size() - 1);
        byte[] line = lines.get(i);
        if (m.kind() == 4) {
          lines.remove(i);
        } else if (m.kind() == 5) {
          lines.add(i, line);
        } else {
          lines.remove(i);
          lines.add(Math.min((int) (m.to() * lines.size()), lines.size()), line);
        }
        lines.forEach(out::writeBytes);
      }
      default -> { // duplicate a run of bytes somewhere else
        out.write(in, 0, at);
        int from = (int) (m.to() * n);
        out.write(in, from, Math.min(n - from, 1 + Math.floorMod(m.value(), 40)));
        out.write(in, at, n - at);
      }
    }
    return out.toByteArray();
  }

  private static List<byte[]> lines(byte[] in) {
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\n') {
        lines.add(Arrays.copyOfRange(in, start, i + 1));
        start = i + 1;
      }
    }
    if (start < in.length) {
      lines.add(Arrays.copyOfRange(in, start, in.length));
    }
    return lines;
  }
}
