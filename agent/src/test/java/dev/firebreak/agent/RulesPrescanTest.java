package dev.firebreak.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.rules.Glob;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.rules.Target;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cheap look premain takes at the rules file must never miss a class glob the parser finds:
 * when it answers, its globs include every target's; when it cannot tell, it says so (null).
 */
class RulesPrescanTest {
  static Stream<Path> corpus() throws Exception {
    Path root = Path.of("src/test/resources/rules");
    return Stream.concat(Files.list(root.resolve("valid")), Files.list(root.resolve("invalid")))
        .filter(p -> p.toString().endsWith(".yaml"))
        .sorted();
  }

  private static List<String> texts(List<Glob> globs) {
    return globs.stream().map(Glob::toString).collect(Collectors.toList());
  }

  @ParameterizedTest
  @MethodSource("corpus")
  void neverMissesAGlobOfTheCorpus(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    List<Glob> found = RulesPrescan.classGlobs(bytes);
    RuleSet rs;
    try {
      rs = RulesParser.parse(file.toString(), bytes);
    } catch (RulesException e) {
      return; // invalid: nothing will be watched; the prescan only must not throw
    }
    List<Glob> methods = RulesPrescan.methodGlobs(bytes);
    if (methods != null) {
      assertThat(texts(methods))
          .as(file.toString())
          .containsAll(rs.targets().stream().map(Target::methodGlob).collect(Collectors.toList()));
    }
    if (found == null) {
      return;
    }
    assertThat(texts(found))
        .as(file.toString())
        .containsAll(rs.targets().stream().map(Target::classGlob).collect(Collectors.toList()));
  }

  @org.junit.jupiter.api.Test
  void readsTheSampleServicesMethodGlobs() throws Exception {
    Path file = Path.of("../rules/emoji-pipeline.yaml");
    byte[] bytes = Files.readAllBytes(file);
    assertThat(texts(RulesPrescan.methodGlobs(bytes)))
        .containsExactlyInAnyOrderElementsOf(
            RulesParser.parse(file.toString(), bytes).targets().stream()
                .map(Target::methodGlob)
                .collect(Collectors.toList()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // a target without a method key watches every method
        "targets:\n  - name: a\n    class: com.acme.A\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    method: run\n"
            + "  - name: b\n    class: com.acme.B\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    method: *m\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    method:\n      run\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    labels: {method: x}\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    labels:\n      method: x\n",
      })
  void givesUpOnMethodsItCannotReadForSure(String targets) {
    byte[] bytes = ("version: 1\n" + targets).getBytes(StandardCharsets.UTF_8);
    assertThat(RulesPrescan.methodGlobs(bytes)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"spec-example.yaml", "minimal.yaml", "target-without-rules.yaml"})
  void readsTheUsualFiles(String name) throws Exception {
    byte[] bytes = Files.readAllBytes(Path.of("src/test/resources/rules/valid", name));
    assertThat(RulesPrescan.classGlobs(bytes)).isNotNull();
  }

  @org.junit.jupiter.api.Test
  void readsTheSampleServicesRules() throws Exception {
    Path file = Path.of("../rules/emoji-pipeline.yaml");
    byte[] bytes = Files.readAllBytes(file);
    assertThat(texts(RulesPrescan.classGlobs(bytes)))
        .containsExactlyInAnyOrderElementsOf(
            RulesParser.parse(file.toString(), bytes).targets().stream()
                .map(Target::classGlob)
                .collect(Collectors.toList()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "targets:\n  - name: a\n    class: &c com.acme.A\n",
        "targets:\n  - name: a\n    class: *c\n",
        "targets:\n  - name: a\n    class:\n      com.acme.A\n",
        "targets:\n  - name: a\n    class: com.acme\n      .A\n",
        "targets:\n  - name: a\n    class: !!str com.acme.A\n",
        "targets:\n  - name: a\n    \"cl\\u0061ss\": com.acme.A\n",
        "targets:\n  - name: a\n    ? class\n    : com.acme.A\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    subtypes: true\n",
        "targets:\n  - name: a\n    class: |\n      com.acme.A\n",
      })
  void givesUpOnWhatItCannotReadForSure(String targets) {
    byte[] bytes = ("version: 1\n" + targets).getBytes(StandardCharsets.UTF_8);
    assertThat(RulesPrescan.classGlobs(bytes)).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "targets:\n  - name: a\n    class: com.acme.A\n",
        "targets:\n  - {name: a, class: com.acme.A}\n",
        "targets:\n  - class: com.acme.A\n    name: a\n",
        "targets:\n  - name: a\n    \"class\": \"com.acme.A\"\n",
        "targets:\n  - name: a\n    class: 'com.acme.A'   # the renderer\n",
        "targets:\n  - name: a\n    class: com.acme.A\n    subtypes: false\n",
      })
  void readsPlainAndQuotedValues(String targets) {
    byte[] bytes = ("version: 1\n" + targets).getBytes(StandardCharsets.UTF_8);
    assertThat(texts(RulesPrescan.classGlobs(bytes))).containsExactly("com.acme.A");
  }
}
