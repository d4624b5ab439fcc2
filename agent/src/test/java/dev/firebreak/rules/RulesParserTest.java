package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RulesParserTest {

  static Path resources(String dir) {
    try {
      return Path.of(RulesParserTest.class.getResource("/rules/" + dir).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<String> yamlFiles(String dir) throws IOException {
    try (Stream<Path> files = Files.list(resources(dir))) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml"))
          .sorted()
          .toList()
          .stream();
    }
  }

  static Stream<String> validFiles() throws IOException {
    return yamlFiles("valid");
  }

  static Stream<String> invalidFiles() throws IOException {
    return yamlFiles("invalid");
  }

  static RuleSet parseText(String yaml) throws RulesException {
    return RulesParser.parse("test.yaml", yaml.getBytes(StandardCharsets.UTF_8));
  }

  static List<String> errorsOf(String yaml) {
    RulesException e = catchThrowableOfType(RulesException.class, () -> parseText(yaml));
    assertThat(e).as("expected the rules to be invalid").isNotNull();
    return e.errors().stream().map(RuleError::toString).toList();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validFiles")
  void validFilesParse(String name) throws Exception {
    byte[] content = Files.readAllBytes(resources("valid").resolve(name));
    RuleSet rules = RulesParser.parse(name, content);
    assertThat(rules.version()).isEqualTo(1);
    assertThat(rules.source()).isEqualTo(name);
    assertThat(rules.sha256()).hasSize(64).matches("[0-9a-f]+");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFiles")
  void invalidFilesReportExactlyTheExpectedErrors(String name) throws Exception {
    Path dir = resources("invalid");
    byte[] content = Files.readAllBytes(dir.resolve(name));
    String expected = Files.readString(dir.resolve(name.replace(".yaml", ".expected"))).strip();

    RulesException e =
        catchThrowableOfType(RulesException.class, () -> RulesParser.parse(name, content));

    assertThat(e).as(name + " should be invalid").isNotNull();
    String actual = e.errors().stream().map(RuleError::toString).collect(Collectors.joining("\n"));
    assertThat(actual).isEqualTo(expected);
    assertThat(e.getMessage()).isEqualTo(actual);
  }

  @Test
  void specExampleMapsEveryField() throws Exception {
    Path file = resources("valid").resolve("spec-example.yaml");
    RuleSet rules = RulesParser.parse(file);

    assertThat(rules.source()).isEqualTo(file.toString());
    assertThat(rules.sha256()).isEqualTo(RulesParser.sha256(Files.readAllBytes(file)));
    assertThat(rules.metrics()).isEqualTo(new RuleSet.MetricsConfig("127.0.0.1", 9464));
    assertThat(rules.alerts())
        .isEqualTo(
            new RuleSet.AlertsConfig(
                "stderr",
                "http://127.0.0.1:9093",
                "http://127.0.0.1:8080/hook",
                Duration.ofSeconds(30),
                Map.of("service", "chat", "env", "prod")));
    assertThat(rules.reload()).isEqualTo(new RuleSet.ReloadConfig(true, Duration.ofSeconds(2)));
    assertThat(rules.admin()).isEqualTo(new RuleSet.AdminConfig("/etc/firebreak/admin-token"));
    assertThat(rules.killSwitch())
        .isEqualTo(new RuleSet.KillSwitchConfig(Duration.ofSeconds(60), 5));
    assertThat(rules.mode()).isEqualTo(Mode.ENFORCE);
    assertThat(rules.targets())
        .extracting(Target::name)
        .containsExactly("emoji-render", "pipeline");

    Target emoji = rules.target("emoji-render").orElseThrow();
    assertThat(emoji.classGlob()).isEqualTo("com.acme.chat.render.EmojiRenderer");
    assertThat(emoji.methodGlob()).isEqualTo("expand*");
    assertThat(emoji.subtypes()).isFalse();
    assertThat(emoji.group()).isEqualTo("emoji");
    assertThat(emoji.fallback()).isEqualTo(new Fallback.ReturnArg(0));
    assertThat(emoji.force()).isEqualTo(Target.Force.CLOSED);
    assertThat(emoji.captureArgument()).isFalse();
    assertThat(emoji.position()).isEqualTo(new Position(file.toString(), 16, 5));
    assertThat(emoji.rules())
        .extracting(Rule::name)
        .containsExactly(
            "emoji-recursion", "emoji-slow", "emoji-stuck", "emoji-loop", "emoji-shadow");
    assertThat(emoji.rules())
        .extracting(Rule::condition)
        .containsExactly(
            new Rule.Depth(32),
            new Rule.Latency(99, Duration.ofMillis(50), Duration.ofSeconds(30)),
            new Rule.Stuck(Duration.ofSeconds(2)),
            new Rule.CallsPerInvocation(1000, "pipeline"),
            new Rule.Depth(16));
    assertThat(emoji.rules())
        .extracting(Rule::action)
        .containsExactly(Action.TRIP, Action.ALERT, Action.ALERT, Action.TRIP, Action.TRIP);
    assertThat(emoji.rules())
        .extracting(Rule::mode)
        .containsExactly(null, null, null, null, Mode.OBSERVE);
    assertThat(emoji.rules().get(0).position()).isEqualTo(new Position(file.toString(), 25, 9));

    Target pipeline = rules.target("pipeline").orElseThrow();
    assertThat(pipeline.methodGlob()).isEqualTo("process");
    assertThat(pipeline.rules()).isEmpty();
  }

  @Test
  void leftOutSettingsTakeTheSpecDefaults() throws Exception {
    RuleSet rules =
        parseText("version: 1\ntargets:\n  - {name: a, class: com.acme.A, rules: []}\n");

    assertThat(rules.metrics()).isEqualTo(RuleSet.MetricsConfig.DEFAULT);
    assertThat(rules.alerts()).isEqualTo(RuleSet.AlertsConfig.DEFAULT);
    assertThat(rules.alerts().log()).isEqualTo("stderr");
    assertThat(rules.alerts().repeatInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(rules.reload()).isEqualTo(new RuleSet.ReloadConfig(true, Duration.ofSeconds(2)));
    assertThat(rules.admin().tokenFile()).isNull();
    assertThat(rules.killSwitch())
        .isEqualTo(new RuleSet.KillSwitchConfig(Duration.ofSeconds(60), 5));
    assertThat(rules.mode()).isEqualTo(Mode.ENFORCE);
    Target a = rules.targets().get(0);
    assertThat(a.methodGlob()).isEqualTo("*");
    assertThat(a.fallback()).isEqualTo(new Fallback.Throw());
    assertThat(a.force()).isEqualTo(Target.Force.CLOSED);
    assertThat(a.subtypes()).isFalse();
    assertThat(a.captureArgument()).isFalse();
    assertThat(a.group()).isNull();
  }

  @Test
  void blockStyleFileWithAliasesAndYaml11Scalars() throws Exception {
    RuleSet rules = RulesParser.parse(resources("valid").resolve("block-style.yaml"));

    assertThat(rules.mode()).isEqualTo(Mode.OBSERVE);
    assertThat(rules.alerts().log()).isEqualTo("off");
    assertThat(rules.alerts().labels())
        .containsExactlyInAnyOrderEntriesOf(Map.of("service", "billing", "version", "2"));
    Target invoice = rules.targets().get(0);
    assertThat(invoice.subtypes()).isTrue();
    assertThat(invoice.fallback()).isEqualTo(new Fallback.ReturnValue("n/a"));
    assertThat(invoice.rules().get(1).condition())
        .isEqualTo(new Rule.Latency(99.9, Duration.ofMillis(250), Duration.ofMinutes(1)));
    assertThat(invoice.rules().get(1).mode()).isEqualTo(Mode.ENFORCE);
    Target tax = rules.targets().get(1);
    assertThat(tax.classGlob()).isEqualTo("com.acme.billing.tax.TaxTable$Cache");
    assertThat(tax.group()).isEqualTo("lookups");
    assertThat(tax.depthCounter()).isEqualTo("group:lookups");
    assertThat(tax.force()).isEqualTo(Target.Force.OPEN);
    assertThat(tax.captureArgument()).isTrue();
    assertThat(tax.fallback()).isEqualTo(new Fallback.ReturnNull());
    assertThat(tax.rules())
        .extracting(Rule::condition)
        .containsExactly(
            new Rule.Latency(99.9, Duration.ofMillis(250), Duration.ofMinutes(1)),
            new Rule.CallsPerInvocation(10_000, "invoice-render"),
            new Rule.Stuck(Duration.ofHours(1)));
  }

  @Test
  void fallbacksOfEveryKind() throws Exception {
    String template =
        "version: 1\ntargets:\n  - {name: a, class: com.acme.A, fallback: \"%s\", rules: []}\n";
    Map<String, Fallback> cases =
        Map.of(
            "throw", new Fallback.Throw(),
            "return-null", new Fallback.ReturnNull(),
            "return-default", new Fallback.ReturnDefault(),
            "return-arg:3", new Fallback.ReturnArg(3),
            "return-value:-1", new Fallback.ReturnValue("-1"),
            "return-value:a: b", new Fallback.ReturnValue("a: b"));
    for (Map.Entry<String, Fallback> c : cases.entrySet()) {
      assertThat(parseText(template.formatted(c.getKey())).targets().get(0).fallback())
          .as(c.getKey())
          .isEqualTo(c.getValue());
      assertThat(c.getValue()).hasToString(c.getKey());
    }
  }

  @Test
  void reportsEveryMistakeInFileOrder() {
    List<String> errors =
        errorsOf(
            """
        version: 1
        reload: {watch: maybe, interval: 2s}
        targets:
          - name: render
            class: com.acme.Renderer
            rules:
              - {name: deep, depth: -1, action: trip}
              - {name: slow, latency: {percentile: 99, above: 50ms, window: 30s}, action: limit}
        """);

    assertThat(errors)
        .containsExactly(
            "test.yaml:2:17: reload.watch: expected true or false, found \"maybe\"",
            "test.yaml:7:29: targets[0].rules[0].depth: expected a positive integer, found -1",
            "test.yaml:8:83: targets[0].rules[1].action: expected alert or trip for a latency rule, found 'limit'"
                + " (a latency rule has no single offending call to short-circuit)");
  }

  @Test
  void ofReferencesAreCheckedAgainstTargetsLaterInTheFile() throws Exception {
    RuleSet rules =
        parseText(
            """
        version: 1
        targets:
          - name: render
            class: com.acme.Renderer
            rules: [{name: loop, calls-per-invocation: {limit: 5, of: pipeline}, action: limit}]
          - {name: pipeline, class: com.acme.Pipeline, rules: []}
        """);
    assertThat(rules.targets().get(0).rules().get(0).condition())
        .isEqualTo(new Rule.CallsPerInvocation(5, "pipeline"));
  }

  @Test
  void aFileLargerThanTheLimitIsRefusedBeforeParsing(@TempDir Path dir) throws IOException {
    byte[] big = new byte[RulesParser.MAX_BYTES + 1];
    java.util.Arrays.fill(big, (byte) '#');
    assertThatThrownBy(() -> RulesParser.parse("big.yaml", big))
        .isInstanceOf(RulesException.class)
        .hasMessage("big.yaml:1:1: rules file is 1048577 bytes, the limit is 1048576");

    Path file = dir.resolve("big.yaml");
    Files.write(file, new byte[2 * RulesParser.MAX_BYTES]);
    assertThatThrownBy(() -> RulesParser.parse(file))
        .isInstanceOf(RulesException.class)
        .hasMessage(file + ":1:1: rules file is 2097152 bytes, the limit is 1048576");
  }

  @Test
  void aMissingFileIsARulesError(@TempDir Path dir) {
    Path file = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> RulesParser.parse(file))
        .isInstanceOf(RulesException.class)
        .hasMessage(file + ":1:1: cannot read the rules file: no such file");
    assertThatThrownBy(() -> RulesParser.parse(dir))
        .isInstanceOf(RulesException.class)
        .hasMessage(
            dir + ":1:1: cannot read the rules file: it is a directory, expected a YAML file");
    assertThatThrownBy(() -> RulesParser.parse((Path) null))
        .isInstanceOf(RulesException.class)
        .hasMessage("null:1:1: cannot read the rules file: no file given");
  }

  @Test
  void byteOrderMarkAndCrLfLineEndsAreFine() throws Exception {
    byte[] content = "\uFEFFversion: 1\r\ntargets: []\r\n".getBytes(StandardCharsets.UTF_8);
    assertThat(RulesParser.parse("bom.yaml", content).targets()).isEmpty();
  }

  @Test
  void invalidUtf8InTheMiddleIsReportedWhereItIs() {
    byte[] content =
        "version: 1\ntargets: []\n# caf\u00e9 \u00ff".getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> RulesParser.parse("latin1.yaml", content))
        .hasMessage(
            "latin1.yaml:3:6: expected UTF-8 text, found the byte 0xE9 at offset 28; is this a binary file?");
  }

  @Test
  void recursiveAliasesDoNotLoop() {
    assertThat(errorsOf("version: 1\ntargets: &t [*t]\n"))
        .containsExactly("test.yaml:2:10: targets[0]: expected a mapping, found a list");
    assertThat(errorsOf("version: 1\nmetrics: &m {host: *m}\ntargets: []\n"))
        .containsExactly("test.yaml:2:10: metrics.host: expected a string, found a mapping");
  }

  @Test
  void unusualButStandardYamlFormsOfNumbersAreErrorsNotSurprises() {
    assertThat(errorsOf("version: 1\nmetrics: {port: 0x10}\ntargets: []\n"))
        .containsExactly(
            "test.yaml:2:17: metrics.port: expected a port from 0 to 65535, found 0x10");
    assertThat(errorsOf("version: 1\nkill-switch: {half-open-calls: 99999999999}\ntargets: []\n"))
        .containsExactly(
            "test.yaml:2:32: kill-switch.half-open-calls: expected a positive integer at most 2147483647, found 99999999999");
  }

  @Test
  void anExplicitStandardTagIsAllowedAndTyped() throws Exception {
    RuleSet rules =
        parseText("version: !!int 1\nmetrics: {port: !!int \"9000\"}\ntargets: !!seq []\n");
    assertThat(rules.metrics().port()).isEqualTo(9000);
  }

  @Test
  void aTagOnAValueIsReportedOnceNotAlsoAsAWrongType() {
    assertThat(errorsOf("version: 1\nmetrics: {port: !!binary AAAA}\ntargets: []\n"))
        .containsExactly(
            "test.yaml:2:17: expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag '!!binary'");
  }

  @Test
  void theErrorListIsNeverEmptyAndOrdered() {
    RulesException e =
        catchThrowableOfType(
            RulesException.class,
            () ->
                parseText(
                    """
        version: 1
        targets:
          - {name: b, class: com.acme.B, rules: [{name: x, depth: 1, calls-per-invocation: {limit: 1, of: zzz}, action: trip}]}
          - {name: a, clas: com.acme.A, rules: []}
        """));
    assertThat(e.errors())
        .isSortedAccordingTo(
            java.util.Comparator.comparingInt(RuleError::line).thenComparingInt(RuleError::column));
    assertThat(e.errors()).hasSize(3);
  }

  @Test
  void duplicatesOnOneLineNameTheColumnOfTheFirst() {
    assertThat(errorsOf("{version: 1, targets: [], version: 1}"))
        .containsExactly("test.yaml:1:27: duplicate key 'version' (first at line 1, column 2)");
  }

  @Test
  void yamlTypesThatLookLikeStringsAreTakenAsTextWhereTextIsExpected() throws Exception {
    RuleSet rules =
        parseText("version: 1\nalerts: {log: 2026-01-01, labels: {on: yes}}\ntargets: []\n");
    assertThat(rules.alerts().log()).isEqualTo("2026-01-01");
    assertThat(rules.alerts().labels()).containsEntry("on", "yes");
  }

  /**
   * metrics.tls and metrics.basic-auth (issue 16): the files are checked when the rules are read.
   */
  @Test
  void metricsTlsAndBasicAuthNameFilesThatExistAndSecretsOnlyTheirOwnerMayRead(@TempDir Path dir)
      throws Exception {
    Path keystore =
        Files.writeString(dir.resolve("metrics.p12"), "not checked here: loaded at start");
    Path password = Files.writeString(dir.resolve("password"), "pw\n");
    Files.setPosixFilePermissions(
        password, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    RuleSet rules =
        parseText(
            "version: 1\n"
                + "metrics: {port: 9464, tls: {keystore: "
                + keystore
                + ", password-file: "
                + password
                + "},\n"
                + "          basic-auth: {user: prometheus, password-file: "
                + password
                + "}}\n"
                + "targets: []\n");
    assertThat(rules.metrics())
        .isEqualTo(
            new RuleSet.MetricsConfig(
                "127.0.0.1",
                9464,
                new RuleSet.Tls(keystore.toString(), password.toString()),
                new RuleSet.BasicAuth("prometheus", password.toString())));

    Path loose = Files.writeString(dir.resolve("loose"), "pw\n");
    Files.setPosixFilePermissions(
        loose, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    Path missing = dir.resolve("missing.p12");
    assertThat(
            errorsOf(
                "version: 1\n"
                    + "metrics:\n"
                    + "  tls: {keystore: "
                    + missing
                    + ", password-file: "
                    + loose
                    + "}\n"
                    + "  basic-auth: {user: \"a:b\", password-file: "
                    + dir
                    + "}\n"
                    + "targets: []\n"))
        .containsExactly(
            "test.yaml:3:19: metrics.tls.keystore: expected a keystore file (PKCS12 or JKS) with the server's key and certificate,"
                + " found no file \""
                + missing
                + "\"",
            "test.yaml:3:"
                + (36 + missing.toString().length())
                + ": metrics.tls.password-file: expected a file holding the keystore's password,"
                + " found \""
                + loose
                + "\" with mode rw-r--r--: a secret only its owner may access (run: chmod 600 "
                + loose
                + ")",
            "test.yaml:4:22: metrics.basic-auth.user: expected a user name without ':', found \"a:b\"",
            "test.yaml:4:44: metrics.basic-auth.password-file: expected a file holding the password,"
                + " found \""
                + dir
                + "\", which is not a regular file");
    assertThat(
            errorsOf(
                "version: 1\nmetrics: {tls: {keystore: x}, basic-auth: {password-file: y}}\ntargets: []\n"))
        .containsExactly(
            "test.yaml:2:16: metrics.tls: missing required key 'password-file', expected a file holding the keystore's password",
            "test.yaml:2:27: metrics.tls.keystore: expected a keystore file (PKCS12 or JKS) with the server's key and certificate,"
                + " found no file \"x\"",
            "test.yaml:2:43: metrics.basic-auth: missing required key 'user', expected the user name Prometheus sends",
            "test.yaml:2:59: metrics.basic-auth.password-file: expected a file holding the password, found no file \"y\"");
  }
}
