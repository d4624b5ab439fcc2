package dev.firebreak.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.rules.RulesParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateCommandTest {
  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @TempDir Path dir;
  Path good;
  Path bad;

  @BeforeEach
  void files() throws Exception {
    good = dir.resolve("rules.yaml");
    Files.writeString(
        good,
        """
        version: 1
        targets:
          - name: render
            class: com.acme.Renderer
            rules:
              - {name: deep, depth: 32, action: trip}
              - {name: slow, latency: {percentile: 99, above: 50ms, window: 30s}, action: alert}
          - {name: parse, class: com.acme.Parser, rules: [{name: stuck, duration: 2s, action: alert}]}
        """);
    bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad,
        """
        version: 1
        reload: {intervall: 2s}
        targets:
          - {name: render, class: com.acme.Renderer, rules: [{name: deep, depth: "32", action: trip}]}
        """);
  }

  private String out() {
    return outBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validFilesExitZeroWithASummaryLineEach() throws Exception {
    Path one = dir.resolve("one.yaml");
    Files.writeString(
        one,
        "version: 1\ntargets: [{name: a, class: A, rules: [{name: r, depth: 1, action: alert}]}]\n");

    int code = ValidateCommand.run(List.of(good.toString(), one.toString()), out, err);

    assertThat(code).isZero();
    String sha = RulesParser.sha256(Files.readAllBytes(good)).substring(0, 8);
    String shaOne = RulesParser.sha256(Files.readAllBytes(one)).substring(0, 8);
    assertThat(out())
        .isEqualTo(
            good
                + ": valid (2 targets, 3 rules, sha256 "
                + sha
                + "…)\n"
                + one
                + ": valid (1 target, 1 rule, sha256 "
                + shaOne
                + "…)\n");
    assertThat(errBytes.size()).isZero();
  }

  @Test
  void aFileWithOnlyAnAutoFenceIsValidAndSaysSo() throws Exception {
    Path fence = dir.resolve("fence.yaml");
    Files.writeString(fence, "version: 1\nauto-fence: {packages: [\"com.acme.**\"]}\n");

    int code = ValidateCommand.run(List.of(fence.toString()), out, err);

    assertThat(code).isZero();
    String sha = RulesParser.sha256(Files.readAllBytes(fence)).substring(0, 8);
    assertThat(out())
        .isEqualTo(
            fence + ": valid (0 targets, 0 rules, auto-fence over 1 glob, sha256 " + sha + "…)\n");
  }

  @Test
  void anyInvalidFileExitsOneAndPrintsEveryError() {
    int code = ValidateCommand.run(List.of(bad.toString(), good.toString()), out, err);

    assertThat(code).isEqualTo(1);
    assertThat(out().lines())
        .containsExactly(
            bad + ":2:10: unknown key 'reload.intervall' (did you mean 'interval'?)",
            bad
                + ":4:74: targets[0].rules[0].depth: expected a positive integer, found a quoted string \"32\"",
            good
                + ": valid (2 targets, 3 rules, sha256 "
                + RulesParser.sha256(readBytes(good)).substring(0, 8)
                + "…)");
  }

  @Test
  void aMissingFileIsInvalid() {
    Path missing = dir.resolve("missing.yaml");
    assertThat(ValidateCommand.run(List.of(missing.toString()), out, err)).isEqualTo(1);
    assertThat(out()).isEqualTo(missing + ":1:1: cannot read the rules file: no such file\n");
  }

  @Test
  void hostileFilesAreEachOneClearErrorAndTheRestAreStillChecked() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.yaml"));
    Path big = dir.resolve("big.yaml");
    try (java.io.OutputStream o = Files.newOutputStream(big)) {
      byte[] chunk = new byte[1024 * 1024];
      java.util.Arrays.fill(chunk, (byte) '#');
      for (int i = 0; i < 50; i++) {
        o.write(chunk);
      }
    }
    Path binary = dir.resolve("image.yaml");
    Files.write(binary, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});

    int code =
        ValidateCommand.run(
            List.of(
                dir.toString(),
                empty.toString(),
                big.toString(),
                binary.toString(),
                good.toString()),
            out,
            err);

    assertThat(code).isEqualTo(1);
    assertThat(out().lines())
        .containsExactly(
            dir + ":1:1: cannot read the rules file: it is a directory, expected a YAML file",
            empty + ":1:1: empty rules file, expected a mapping with 'version: 1'",
            big + ":1:1: rules file is 52428800 bytes, the limit is 1048576",
            binary
                + ":1:1: expected UTF-8 text, found the byte 0x89 at offset 0; is this a binary file?",
            good
                + ": valid (2 targets, 3 rules, sha256 "
                + RulesParser.sha256(readBytes(good)).substring(0, 8)
                + "…)");
    assertThat(errBytes.size()).isZero();
  }

  @Test
  void noFilesIsWrongUsage() {
    assertThat(ValidateCommand.run(List.of(), out, err)).isEqualTo(2);
    assertThat(errBytes.toString(StandardCharsets.UTF_8)).startsWith("usage: ");
    assertThat(outBytes.size()).isZero();
  }

  private static byte[] readBytes(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
