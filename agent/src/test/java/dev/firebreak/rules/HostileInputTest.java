package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4, item 6: hostile rules files. Each one gets a clear {@code file:line:col: message} error,
 * within two seconds, in bounded memory, and with no class instantiated from the file.
 *
 * <p>The two seconds are a correctness bound, not a benchmark: they are asserted on the CPU time of
 * the parsing thread, so that a loaded build machine does not make them flaky, and a wall-clock
 * guard several times larger catches a hang.
 */
class HostileInputTest {
  /** The bound for every hostile input, on the parsing thread's CPU time. */
  private static final Duration BOUND = Duration.ofSeconds(2);

  /** Wall clock: a parse still running after this is hung. */
  private static final Duration HANG = Duration.ofSeconds(15);

  /**
   * Allocated (not retained) while rejecting one file: generous, the parser reads at most MAX_BYTES
   * and builds one node per YAML event; a 50 MB file read whole would exceed it.
   */
  private static final long ALLOCATION_BOUND = 512L * 1024 * 1024;

  private static final String CANARY = "firebreak.hostile.canary";

  @TempDir Path dir;

  @BeforeAll
  static void warmUp() throws Exception {
    // class loading and JIT of the first parse are not what the bound is about
    RulesParser.parse(
        "warm-up.yaml",
        Files.readAllBytes(RulesParserTest.resources("valid").resolve("spec-example.yaml")));
  }

  @BeforeEach
  @AfterEach
  void noClassFromAnyFile() {
    assertThat(System.getProperty(CANARY)).as("a class named by a rules file was loaded").isNull();
  }

  record Outcome(RulesException error, long allocatedBytes, Duration cpu) {
    List<String> lines() {
      return error.errors().stream().map(RuleError::toString).toList();
    }
  }

  /**
   * Parses {@code content} and expects a RulesException, within the bound, with well-formed errors.
   */
  static Outcome reject(String name, byte[] content) {
    return rejectWith(name, () -> RulesParser.parse(name, content));
  }

  static Outcome reject(Path file) {
    return rejectWith(file.toString(), () -> RulesParser.parse(file));
  }

  interface Parse {
    RuleSet run() throws RulesException;
  }

  static Outcome rejectWith(String name, Parse parse) {
    Outcome outcome =
        assertTimeoutPreemptively(
            HANG,
            () -> {
              com.sun.management.ThreadMXBean threads =
                  (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
              long before = threads.getCurrentThreadAllocatedBytes();
              long start = threads.getCurrentThreadCpuTime();
              RulesException error = null;
              try {
                RuleSet rules = parse.run();
                throw new AssertionError(name + " should be rejected, parsed as " + rules);
              } catch (RulesException e) {
                error = e;
              }
              return new Outcome(
                  error,
                  threads.getCurrentThreadAllocatedBytes() - before,
                  Duration.ofNanos(threads.getCurrentThreadCpuTime() - start));
            },
            name + " hangs: still parsing after " + HANG);
    assertThat(outcome.cpu()).as(name + " parse CPU time").isLessThan(BOUND);
    assertThat(outcome.error().errors())
        .isNotEmpty()
        .allSatisfy(
            e -> {
              assertThat(e.file()).isEqualTo(name);
              assertThat(e.line()).isPositive();
              assertThat(e.column()).isPositive();
              assertThat(e.message())
                  .isNotBlank()
                  .doesNotContain("\n")
                  .doesNotContain("internal error");
              assertThat(e.toString()).startsWith(name + ":" + e.line() + ":" + e.column() + ": ");
            });
    assertThat(outcome.allocatedBytes()).as(name + " allocated bytes").isLessThan(ALLOCATION_BOUND);
    return outcome;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ alias bombs

  @Test
  void billionLaughsIsStoppedAtTheAliasLimit() {
    StringBuilder y = new StringBuilder("version: 1\ntargets: []\nlol:\n");
    y.append("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    char prev = 'a';
    for (char c = 'b'; c <= 'i'; c++) {
      y.append("  ").append(c).append(": &").append(c).append(" [");
      for (int i = 0; i < 9; i++) {
        y.append(i == 0 ? "" : ",").append('*').append(prev);
      }
      y.append("]\n");
      prev = c;
    }
    Outcome o = reject("laughs.yaml", utf8(y.toString()));
    assertThat(o.lines())
        .containsExactly(
            "laughs.yaml:7:16: expected at most 20 aliases to lists or mappings, found more;"
                + " the limit guards against alias bombs");
  }

  @Test
  void anAliasBombOfMappingsInsideTheTargetsIsStoppedToo() {
    StringBuilder y =
        new StringBuilder("version: 1\ntargets:\n  - &t0 {name: t, class: A, rules: []}\n");
    for (int level = 1; level <= 8; level++) {
      y.append("  - &t").append(level).append(" {");
      for (int i = 0; i < 9; i++) {
        y.append(i == 0 ? "" : ", ").append("k").append(i).append(": *t").append(level - 1);
      }
      y.append("}\n");
    }
    Outcome o = reject("map-bomb.yaml", utf8(y.toString()));
    assertThat(o.lines())
        .last()
        .asString()
        .contains("expected at most 20 aliases to lists or mappings");
  }

  @Test
  void manyAliasesToScalarsAreHarmlessAndStillFast() {
    StringBuilder y =
        new StringBuilder("version: 1\nalerts: {labels: {a: &v x}}\ntargets: []\nmetrics: [");
    while (y.length() < RulesParser.MAX_BYTES - 10) {
      y.append("*v,");
    }
    y.append("*v]\n");
    Outcome o = reject("scalar-aliases.yaml", utf8(y.toString()));
    assertThat(o.lines())
        .containsExactly("scalar-aliases.yaml:4:10: metrics: expected a mapping, found a list");
  }

  // ------------------------------------------------------------------ size

  @Test
  void aFiftyMegabyteFileIsRefusedBeforeItIsRead() throws IOException {
    Path big = dir.resolve("big.yaml");
    byte[] chunk =
        utf8(
            "version: 1\ntargets: []\n# padding padding padding padding padding padding padding\n"
                .repeat(1000));
    long size = 0;
    try (OutputStream out = Files.newOutputStream(big)) {
      while (size < 50L * 1024 * 1024) {
        out.write(chunk);
        size += chunk.length;
      }
    }
    Outcome o = reject(big);
    assertThat(o.lines())
        .containsExactly(big + ":1:1: rules file is " + size + " bytes, the limit is 1048576");
    // looked at, not read: far less than the file, and less than the parser's own limit
    assertThat(o.allocatedBytes()).isLessThan(RulesParser.MAX_BYTES);
  }

  @Test
  @EnabledIf("devZeroExists")
  void anEndlessStreamIsCutAtTheLimit() {
    Outcome o = reject(Path.of("/dev/zero"));
    assertThat(o.lines())
        .containsExactly(
            "/dev/zero:1:1: rules file is more than 1048576 bytes, the limit is 1048576");
  }

  static boolean devZeroExists() {
    return Files.exists(Path.of("/dev/zero")) && !Files.isRegularFile(Path.of("/dev/zero"));
  }

  @Test
  void contentOverTheLimitIsRefusedWithoutParsing() {
    byte[] content = new byte[RulesParser.MAX_BYTES + 1];
    Arrays.fill(content, (byte) '[');
    assertThat(reject("huge.yaml", content).lines())
        .containsExactly("huge.yaml:1:1: rules file is 1048577 bytes, the limit is 1048576");
  }

  // ------------------------------------------------------------------ nesting

  @Test
  void deepFlowNestingIsStoppedWithoutAStackOverflow() {
    int levels = RulesParser.MAX_BYTES / 2 - 100;
    String y = "version: 1\ntargets: []\nx: " + "[".repeat(levels) + "]".repeat(levels) + "\n";
    assertThat(reject("deep-flow.yaml", utf8(y)).lines())
        .containsExactly(
            "deep-flow.yaml:3:23: expected at most 20 levels of nested lists and mappings, found more");

    String maps =
        "version: 1\ntargets: []\nx: " + "{a: ".repeat(200_000) + "1" + "}".repeat(200_000) + "\n";
    assertThat(reject("deep-maps.yaml", utf8(maps)).lines())
        .singleElement()
        .asString()
        .contains("expected at most 20 levels of nested lists and mappings, found more");

    String unclosed = "version: 1\ntargets: []\nx: " + "[".repeat(500_000);
    assertThat(reject("unclosed.yaml", utf8(unclosed)).lines())
        .singleElement()
        .asString()
        .contains("expected at most 20 levels of nested lists and mappings, found more");
  }

  @Test
  void deepBlockNestingIsStopped() {
    StringBuilder y = new StringBuilder("version: 1\ntargets: []\n");
    for (int i = 0; i < 1000; i++) {
      y.append(" ".repeat(i)).append("k").append(i).append(":\n");
    }
    assertThat(reject("deep-block.yaml", utf8(y.toString())).lines())
        .singleElement()
        .asString()
        .contains("expected at most 20 levels of nested lists and mappings, found more");

    StringBuilder seq = new StringBuilder("version: 1\ntargets: []\nx:\n");
    for (int i = 0; i < 1000; i++) {
      seq.append(" ".repeat(2 * i)).append("-\n");
    }
    assertThat(reject("deep-seq.yaml", utf8(seq.toString())).lines())
        .singleElement()
        .asString()
        .contains("expected at most 20 levels of nested lists and mappings, found more");
  }

  // ------------------------------------------------------------------ tags

  @Test
  void globalTagsNeverInstantiateAnything() {
    String canary = HostileInputTest.class.getPackageName() + ".HostileCanary";
    assertThat(
            reject("canary.yaml", utf8("version: 1\ntargets: []\nmode: !!" + canary + " {}\n"))
                .lines())
        .containsExactly(
            "canary.yaml:3:7: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!"
                + canary
                + "'");
    assertThat(
            reject("canary-arg.yaml", utf8("version: 1\ntargets: [!!" + canary + " [x]]\n"))
                .lines())
        .containsExactly(
            "canary-arg.yaml:2:11: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!"
                + canary
                + "'");
    assertThat(
            reject(
                    "canary-verbatim.yaml",
                    utf8("version: 1\ntargets: []\nmode: !<tag:yaml.org,2002:" + canary + "> x\n"))
                .lines())
        .singleElement()
        .asString()
        .contains("found the tag '!!" + canary + "'");
    assertThat(
            reject(
                    "canary-directive.yaml",
                    utf8(
                        "%TAG !x! tag:yaml.org,2002:dev.firebreak.rules.\n---\nversion: 1\ntargets: []\nmode: !x!HostileCanary x\n"))
                .lines())
        .singleElement()
        .asString()
        .contains("found the tag '!!" + canary + "'");
    assertThat(
            reject("canary-key.yaml", utf8("version: 1\ntargets: []\n? !!" + canary + " k\n: v\n"))
                .lines())
        .singleElement()
        .asString()
        .contains("found the tag '!!" + canary + "'");
    assertThat(System.getProperty(CANARY)).isNull();
  }

  @Test
  void theClassicSnakeYamlGadgetsAreJustTags() {
    String gadget =
        """
        version: 1
        targets: []
        mode: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["http://127.0.0.1:1/x.jar"]]]]
        metrics: !!java.lang.ProcessBuilder [[touch, /tmp/firebreak-pwned]]
        """;
    Outcome o = reject("gadget.yaml", utf8(gadget));
    assertThat(o.lines())
        .containsExactly(
            "gadget.yaml:3:7: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!javax.script.ScriptEngineManager'",
            "gadget.yaml:3:43: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!java.net.URLClassLoader'",
            "gadget.yaml:3:71: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!java.net.URL'",
            "gadget.yaml:4:10: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!java.lang.ProcessBuilder'");
    assertThat(Path.of("/tmp/firebreak-pwned")).doesNotExist();
  }

  // ------------------------------------------------------------------ not text

  @Test
  void binaryGarbageIsNamedAsSuch() {
    byte[] random = new byte[64 * 1024];
    new Random(4).nextBytes(random);
    random[0] = (byte) 0xC3; // a lead byte without its continuation
    random[1] = 'x';
    assertThat(reject("random.bin", random).lines())
        .containsExactly(
            "random.bin:1:1: expected UTF-8 text, found the byte 0xC3 at offset 0; is this a binary file?");

    byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0};
    assertThat(reject("elf.yaml", elf).lines())
        .containsExactly(
            "elf.yaml:1:1: expected text, found the control character U+007F; is this a binary file?");

    byte[] utf16 = "version: 1\n".getBytes(StandardCharsets.UTF_16LE);
    byte[] withBom = new byte[utf16.length + 2];
    withBom[0] = (byte) 0xFF;
    withBom[1] = (byte) 0xFE;
    System.arraycopy(utf16, 0, withBom, 2, utf16.length);
    assertThat(reject("utf16.yaml", withBom).lines())
        .containsExactly(
            "utf16.yaml:1:1: expected UTF-8 text, found the byte 0xFF at offset 0; is this a binary file?");

    byte[] zeros = new byte[RulesParser.MAX_BYTES];
    assertThat(reject("zeros.yaml", zeros).lines())
        .containsExactly(
            "zeros.yaml:1:1: expected text, found the control character U+0000; is this a binary file?");
  }

  @Test
  void binaryGarbageAfterValidRulesIsReportedWhereItStarts() {
    byte[] head = utf8("version: 1\ntargets: []\n");
    byte[] content = Arrays.copyOf(head, head.length + 3);
    content[head.length] = 'x';
    content[head.length + 1] = (byte) 0x80;
    assertThat(reject("tail.yaml", content).lines())
        .containsExactly(
            "tail.yaml:3:2: expected UTF-8 text, found the byte 0x80 at offset 24; is this a binary file?");
  }

  // ------------------------------------------------------------------ nothing there

  @Test
  void emptyAndBlankFilesSayTheyAreEmpty() throws IOException {
    String expected = ":1:1: empty rules file, expected a mapping with 'version: 1'";
    Path empty = Files.createFile(dir.resolve("empty.yaml"));
    assertThat(reject(empty).lines()).containsExactly(empty + expected);
    assertThat(reject("blank.yaml", utf8("  \n\n    \n# only comments\n")).lines())
        .containsExactly("blank.yaml" + expected);
    assertThat(reject("bom.yaml", utf8("\uFEFF")).lines()).containsExactly("bom.yaml" + expected);
    assertThat(reject("null.yaml", null).lines()).containsExactly("null.yaml" + expected);
  }

  @Test
  void aDirectoryIsNotARulesFile() {
    assertThat(reject(dir).lines())
        .containsExactly(
            dir + ":1:1: cannot read the rules file: it is a directory, expected a YAML file");
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("no").resolve("such.yaml");
    assertThat(reject(missing).lines())
        .containsExactly(missing + ":1:1: cannot read the rules file: no such file");
  }

  // ------------------------------------------------------------------ many mistakes at once

  @Test
  void aMegabyteOfMistakesIsReportedQuickly() {
    StringBuilder y = new StringBuilder("version: 1\ntargets: []\n");
    for (int i = 0; y.length() < RulesParser.MAX_BYTES - 100; i++) {
      y.append("versoin").append(i).append(": 1\n");
    }
    Outcome o = reject("keys.yaml", utf8(y.toString()));
    assertThat(o.error().errors().size()).isGreaterThan(50_000);
    assertThat(o.lines().get(0))
        .isEqualTo(
            "keys.yaml:3:1: unknown key 'versoin0', expected one of: version, metrics,"
                + " alerts, reload, admin, kill-switch, mode, targets, auto-fence");
  }

  /**
   * A megabyte of targets, each naming a budget's {@code of} that does not exist, within the bound.
   * A file half the size is parsed first, so that the bound measures the parse, not the JIT's
   * warm-up: cold, on a loaded 2-CPU machine, the warm-up alone took this parse past 2 s (2.2 s in
   * one CI run); warm, it takes 0.2-0.7 s. (A test of twice the references against once was tried
   * and dropped: one parse's CPU time moves 4x from run to run with the JIT and the collector.)
   */
  @Test
  void thousandsOfUnknownTargetReferencesDoNotTakeQuadraticTime() {
    reject("refs-warm-up.yaml", unknownReferences(RulesParser.MAX_BYTES / 2));
    Outcome o = reject("refs.yaml", unknownReferences(RulesParser.MAX_BYTES - 200));
    assertThat(o.error().errors().size()).isGreaterThan(5_000);
  }

  private static byte[] unknownReferences(int bytes) {
    StringBuilder y = new StringBuilder("version: 1\ntargets:\n");
    for (int i = 0; y.length() < bytes; i++) {
      y.append("- {name: t")
          .append(i)
          .append(", class: A, rules: [{name: r")
          .append(i)
          .append(", calls-per-invocation: {limit: 1, of: u")
          .append(i)
          .append("}, action: trip}]}\n");
    }
    return utf8(y.toString());
  }
}
