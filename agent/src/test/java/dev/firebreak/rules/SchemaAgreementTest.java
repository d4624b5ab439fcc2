package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.firebreak.cli.ValidateCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Keeps {@code rules/firebreak-rules.schema.json} and the parser in agreement (issue 4, item 5):
 * every valid file passes both; every invalid file whose mistake a schema can see fails both.
 *
 * <p>The schema sees each file as the parser does: SnakeYAML's node tree with its YAML 1.1 types
 * ({@code yes} is a boolean, {@code 10_000} an integer), turned into JSON.
 */
class SchemaAgreementTest {

  /**
   * Invalid only by what a JSON Schema cannot express: relations between values and ranges the
   * patterns do not reach. The schema must accept them (so it is not stricter than the parser);
   * {@code validate} is what catches them.
   */
  static final Set<String> SEMANTIC_ONLY =
      Set.of(
          "duplicate-rule-name.yaml", // names unique across the file
          "duplicate-target-name.yaml",
          "of-unknown-target.yaml", // 'of' must name a target of the file
          "of-self.yaml", // ... and not the rule's own
          "spec-example-verbatim.yaml", // the SPEC's example names a target 'pipeline' it does not
          // define
          "duplicate-key.yaml", // JSON has no duplicate keys: the tree keeps one
          "duration-too-long.yaml"); // 999999999999999999h matches the pattern, overflows a

  // Duration

  /**
   * Mistakes below the data: not YAML, not one document, or YAML that a JSON Schema never sees
   * (tags, aliases, merge keys). Only the parser judges them.
   */
  static final Set<String> YAML_LEVEL =
      Set.of(
          "alias-bomb.yaml",
          "binary-garbage.yaml",
          "deep-nesting.yaml",
          "java-tag.yaml",
          "local-tag.yaml",
          "merge-key.yaml",
          "multi-document.yaml",
          "nul-byte.yaml",
          "syntax-error.yaml",
          "tab-indentation.yaml",
          "undefined-alias.yaml");

  static Schema schema;

  static Path repoRules() {
    Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    Path rules = base.resolveSibling("rules");
    if (!Files.isDirectory(rules)) {
      rules = base.resolve("rules"); // run from the repository root
    }
    return rules;
  }

  @BeforeAll
  static void loadSchema() throws IOException {
    String text = Files.readString(repoRules().resolve("firebreak-rules.schema.json"));
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    schema = registry.getSchema(text, com.networknt.schema.InputFormat.JSON);
  }

  @Test
  void theSchemaIsAValidDraft202012Schema() throws IOException {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    Schema meta =
        registry.getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));
    JsonNode json =
        new ObjectMapper().readTree(repoRules().resolve("firebreak-rules.schema.json").toFile());
    assertThat(meta.validate(json)).isEmpty();
    assertThat(meta.validate(new ObjectMapper().readTree("{\"type\": 5}")))
        .as("the meta-schema checks")
        .isNotEmpty();
    assertThat(json.get("$schema").asText())
        .isEqualTo("https://json-schema.org/draft/2020-12/schema");
  }

  static Stream<String> validFiles() throws IOException {
    return RulesParserTest.validFiles();
  }

  static Stream<String> invalidFiles() throws IOException {
    return RulesParserTest.invalidFiles();
  }

  static Stream<String> repoRuleFiles() throws IOException {
    try (Stream<Path> files = Files.list(repoRules())) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validFiles")
  void validFilesPassTheSchema(String name) throws Exception {
    byte[] content = Files.readAllBytes(RulesParserTest.resources("valid").resolve(name));
    RulesParser.parse(name, content);
    assertThat(schemaErrors(content)).as(name).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFiles")
  void invalidFilesFailTheSchemaUnlessTheirMistakeIsBeyondIt(String name) throws Exception {
    byte[] content = Files.readAllBytes(RulesParserTest.resources("invalid").resolve(name));
    assertThat(catchThrowableOfType(RulesException.class, () -> RulesParser.parse(name, content)))
        .as(name + " is rejected by the parser")
        .isNotNull();
    if (YAML_LEVEL.contains(name)) {
      return;
    }
    List<String> errors = schemaErrors(content);
    if (SEMANTIC_ONLY.contains(name)) {
      assertThat(errors)
          .as(name + " is listed as semantic-only: the schema must accept it")
          .isEmpty();
    } else {
      assertThat(errors)
          .as(
              name
                  + " has a mistake the schema can see: add it to the schema,"
                  + " or list it in SEMANTIC_ONLY / YAML_LEVEL with the reason")
          .isNotEmpty();
    }
  }

  @Test
  void theExclusionListsNameFilesThatExist() throws IOException {
    Set<String> invalid = new TreeSet<>(invalidFiles().toList());
    assertThat(invalid).containsAll(SEMANTIC_ONLY).containsAll(YAML_LEVEL);
    assertThat(SEMANTIC_ONLY).doesNotContainAnyElementsOf(YAML_LEVEL);
  }

  /**
   * Every rules file of the repository: the modeline first, valid for the parser, the schema and
   * validate.
   */
  @ParameterizedTest(name = "rules/{0}")
  @MethodSource("repoRuleFiles")
  void everyRulesFileOfTheRepositoryCarriesTheModelineAndIsValid(String name) throws Exception {
    Path file = repoRules().resolve(name);
    String text = Files.readString(file);
    assertThat(text.lines().findFirst().orElse(""))
        .isEqualTo("# yaml-language-server: $schema=firebreak-rules.schema.json");
    byte[] content = Files.readAllBytes(file);
    RulesParser.parse(name, content);
    assertThat(schemaErrors(content)).as(name).isEmpty();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        ValidateCommand.run(
            List.of(file.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertThat(code).as(out.toString(StandardCharsets.UTF_8)).isZero();
  }

  @Test
  void thereIsAtLeastOneRulesFileInTheRepository() throws IOException {
    assertThat(repoRuleFiles()).isNotEmpty();
  }

  /** Small cases at the edges of the patterns and enums, each judged alike by both. */
  @Test
  void edgesOfThePatternsAgree() throws Exception {
    String target =
        "version: 1\ntargets:\n  - {name: a, class: %s, method: %s, fallback: %s, rules: [%s]}\n";
    List<String[]> cases =
        List.of(
            new String[] {"com.acme.**", "\"*\"", "throw", ""},
            new String[] {"\"com.acme.*Service\"", "\"get?\"", "return-arg:255", ""},
            new String[] {"com.acme.Outer$Inner", "expand", "return-arg:0", ""},
            new String[] {"com.acme.Outer$Inner", "expand", "return-arg:09", ""},
            new String[] {
              "\"com.acme.\u00e9t\u00e9.R\"", "\u00e9crire", "\"return-value:a b: c\"", ""
            },
            new String[] {"A", "_x", "return-default", "{name: r, duration: 1ms, action: alert}"},
            new String[] {"A", "x", "return-null", "{name: r, duration: 0001s, action: limit}"},
            new String[] {"A", "x", "throw", "{name: r, duration: 1d, action: alert}"},
            new String[] {"A", "x", "throw", "{name: r, duration: 1S, action: alert}"},
            new String[] {"A", "x", "throw", "{name: r, duration: 0ms, action: alert}"},
            new String[] {"A", "x", "throw", "{name: r, depth: 2147483647, action: trip}"},
            new String[] {"A", "x", "throw", "{name: r, depth: 2147483648, action: trip}"},
            new String[] {"A", "x", "throw", "{name: r, depth: 1.5, action: trip}"},
            new String[] {
              "A",
              "x",
              "throw",
              "{name: r, latency: {percentile: 100, above: 1s, window: 1m}, action: trip}"
            },
            new String[] {
              "A",
              "x",
              "throw",
              "{name: r, latency: {percentile: 99.99, above: 1s, window: 1m}, action: limit}"
            },
            new String[] {"A", "x", "throw", "{name: 7, depth: 3, action: alert, mode: observe}"},
            new String[] {"A", "x", "throw", "{name: r, depth: 3, action: ALERT}"},
            new String[] {"A", "x", "throw", "{name: r-, depth: 3, action: alert}"},
            new String[] {"A", "x", "throw", "{name: r_, depth: 3, action: alert}"},
            new String[] {"a.b.", "x", "throw", ""},
            new String[] {"a..b", "x", "throw", ""},
            new String[] {"\"a.b.***\"", "x", "throw", ""},
            new String[] {"1a", "x", "throw", ""},
            new String[] {"a-b", "x", "throw", ""},
            new String[] {"A", "\"x**\"", "throw", ""},
            new String[] {"A", "a.b", "throw", ""},
            new String[] {"A", "\"<init>\"", "throw", ""},
            new String[] {"A", "x", "return-arg:256", ""},
            new String[] {"A", "x", "return-arg:-1", ""},
            new String[] {"A", "x", "\"return-value:\"", ""},
            new String[] {"A", "x", "return-nul", ""});
    List<String> files = new ArrayList<>();
    for (String[] c : cases) {
      files.add(String.format(target, (Object[]) c));
    }
    files.add("version: 1\nmetrics: {port: 0}\ntargets: []\n");
    files.add("version: 1\nmetrics: {port: 65536}\ntargets: []\n");
    files.add("version: 1\nmetrics: {port: -1}\ntargets: []\n");
    files.add("version: 1\nmetrics: {host: 10.0.0.1, port: 0x10}\ntargets: []\n");
    files.add("version: 1\nalerts: {log: off, labels: {on: yes, n: 2, _x: y}}\ntargets: []\n");
    files.add("version: 1\nalerts: {labels: {9x: y}}\ntargets: []\n");
    files.add("version: 1\nalerts: {labels: {x: }}\ntargets: []\n");
    files.add(
        "version: 1\nalerts: {alertmanager: https://am.example:9093/x, webhook: \"HTTP://h/hook?a=b\"}\ntargets: []\n");
    files.add("version: 1\nalerts: {webhook: \"http:///nohost\"}\ntargets: []\n");
    files.add("version: 1\nalerts: {webhook: mailto:x@y}\ntargets: []\n");
    files.add("version: 1\nreload: {watch: no, interval: 500ms}\ntargets: []\n");
    files.add("version: 1\nreload: {watch: \"no\"}\ntargets: []\n");
    files.add("version: 1\nkill-switch: {half-open-calls: 1}\ntargets: []\n");
    files.add("version: 1\nadmin: {token-file: \"\"}\ntargets: []\n");
    files.add("version: 1\nadmin: {}\nmode: observe\ntargets: []\n");
    // Not here: "version: 1.0" or "depth: 32.0". YAML types them as floats and the parser wants
    // integers, but JSON Schema (2020-12) counts 1.0 as the integer 1: only validate sees it.
    files.add("version: 1\ntargets: []\nmode: null\n");
    files.add(
        "version: 1\ntargets:\n  - {name: a, class: A, rules: [], subtypes: yes, capture-argument: off, force: open}\n");
    files.add("version: 1\ntargets:\n  - {name: a, class: A, rules: [], force: half}\n");
    files.add("version: 1\ntargets:\n  - {name: a, class: A, rules: [], group: 12}\n");
    files.add(
        "version: 1\ntargets:\n  - {name: a, class: A, rules: [{name: r, calls-per-invocation: {limit: 10_000, of: b}, action: trip}]}\n"
            + "  - {name: b, class: B, rules: []}\n");
    files.add(
        "version: 1\ntargets:\n  - {name: a, class: A, rules: [{name: r, calls-per-invocation: {limit: 1, of: B}, action: trip}]}\n");
    for (String file : files) {
      byte[] content = file.getBytes(StandardCharsets.UTF_8);
      boolean parserAccepts =
          catchThrowableOfType(RulesException.class, () -> RulesParser.parse("edge.yaml", content))
              == null;
      List<String> schemaErrors = schemaErrors(content);
      assertThat(schemaErrors.isEmpty())
          .as(
              "parser %s, schema %s:%n%s%s",
              parserAccepts ? "accepts" : "rejects",
              schemaErrors.isEmpty() ? "accepts" : "rejects",
              file,
              schemaErrors)
          .isEqualTo(parserAccepts);
    }
  }

  /**
   * metrics.tls and metrics.basic-auth: judged alike, given files that exist (their existence is
   * beyond a schema).
   */
  @Test
  void metricsTlsAndBasicAuthAgree(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret"), "pw");
    Files.setPosixFilePermissions(
        secret, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    String f = secret.toString();
    List<String> files =
        List.of(
            "metrics: {tls: {keystore: " + f + ", password-file: " + f + "}}",
            "metrics: {basic-auth: {user: prom, password-file: " + f + "}}",
            "metrics: {basic-auth: {user: 7, password-file: " + f + "}}",
            "metrics: {tls: {keystore: " + f + "}}",
            "metrics: {tls: {password-file: " + f + "}}",
            "metrics: {tls: {keystore: " + f + ", password-file: " + f + ", alias: x}}",
            "metrics: {tls: " + f + "}",
            "metrics: {tls: {keystore: \"\", password-file: " + f + "}}",
            "metrics: {basic-auth: {user: \"a:b\", password-file: " + f + "}}",
            "metrics: {basic-auth: {password-file: " + f + "}}",
            "metrics: {basic-auth: {user: prom}}",
            "metrics: {basic-auth: {user: prom, password: x, password-file: " + f + "}}");
    for (String metrics : files) {
      byte[] content =
          ("version: 1\n" + metrics + "\ntargets: []\n").getBytes(StandardCharsets.UTF_8);
      boolean parserAccepts =
          catchThrowableOfType(RulesException.class, () -> RulesParser.parse("edge.yaml", content))
              == null;
      List<String> schemaErrors = schemaErrors(content);
      assertThat(schemaErrors.isEmpty())
          .as(
              "parser %s, schema %s: %s %s",
              parserAccepts ? "accepts" : "rejects",
              schemaErrors.isEmpty() ? "accepts" : "rejects",
              metrics,
              schemaErrors)
          .isEqualTo(parserAccepts);
    }
  }

  // ------------------------------------------------------------------ YAML as the parser sees it,
  // as JSON

  static List<String> schemaErrors(byte[] content) {
    JsonNode json = toJson(new String(content, StandardCharsets.UTF_8));
    return schema.validate(json).stream().map(Object::toString).toList();
  }

  /** The first document as JSON; {@code null} (JSON null) for an empty file. */
  static JsonNode toJson(String yaml) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(true);
    options.setMergeOnCompose(false);
    options.setTagInspector(tag -> true); // tags become plain values; nothing is constructed
    Composer composer =
        new Composer(
            new ParserImpl(new StreamReader(new StringReader(yaml)), options),
            new Resolver(),
            options);
    Node root = composer.getSingleNode();
    return root == null ? JsonNodeFactory.instance.nullNode() : json(root, 0);
  }

  private static final java.util.regex.Pattern DECIMAL =
      java.util.regex.Pattern.compile("[-+]?(0|[1-9][0-9]*)");

  static JsonNode json(Node node, int depth) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (depth > 50) {
      return f.textNode("<too deep>"); // recursive aliases
    }
    if (node instanceof MappingNode m) {
      ObjectNode o = f.objectNode();
      for (NodeTuple t : m.getValue()) {
        String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "<not a plain key>";
        if (!o.has(key)) { // the parser keeps the first of duplicate keys
          o.set(key, json(t.getValueNode(), depth + 1));
        }
      }
      return o;
    }
    if (node instanceof SequenceNode s) {
      ArrayNode a = f.arrayNode();
      for (Node n : s.getValue()) {
        a.add(json(n, depth + 1));
      }
      return a;
    }
    ScalarNode s = (ScalarNode) node;
    Tag tag = s.getTag();
    String v = s.getValue();
    if (tag.equals(Tag.NULL)) {
      return f.nullNode();
    }
    if (tag.equals(Tag.BOOL)) {
      String b = v.toLowerCase(Locale.ROOT);
      return f.booleanNode(b.equals("true") || b.equals("yes") || b.equals("on") || b.equals("y"));
    }
    if (tag.equals(Tag.INT)) {
      String d = v.replace("_", "");
      return DECIMAL.matcher(d).matches()
          ? f.numberNode(new BigInteger(d.startsWith("+") ? d.substring(1) : d))
          : f.textNode(v);
    }
    if (tag.equals(Tag.FLOAT)) {
      try {
        return f.numberNode(new BigDecimal(v.replace("_", "")));
      } catch (NumberFormatException e) {
        return f.textNode(v); // .inf, .nan
      }
    }
    return f.textNode(v);
  }
}
