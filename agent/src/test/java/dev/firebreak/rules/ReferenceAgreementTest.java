package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/reference.md}, the parser and {@code rules/firebreak-rules.schema.json} in
 * agreement (issue 18): every key the parser accepts has a row in the reference's key table, with a
 * default, and a place in the schema; every row names a key the parser accepts, or says the key is
 * not implemented yet.
 *
 * <p>The keys are the parser's own: at each place of a file it is given an unknown key, and its
 * error lists the keys it accepts there ("unknown key 'metrics.x', expected one of: host, port").
 * Each accepted key is then given a mapping holding an unknown key, which finds the sections below
 * it ({@code latency}, {@code calls-per-invocation}, and any section added later) the same way.
 */
class ReferenceAgreementTest {
  /**
   * Far from every key (no key has a q), so the parser lists them all instead of a "did you mean".
   */
  static final String PROBE = "qqqqqqqq";

  static final Pattern UNKNOWN = Pattern.compile("unknown key '([^']*)', expected one of: (.*)");

  /** A row of the key table: {@code | `path` | value | default | meaning |}. */
  static final Pattern ROW = Pattern.compile("(?m)^\\| `([a-z0-9\\[\\].-]+)` \\|(.*)$");

  static final String NOT_YET = "not implemented yet";

  static String reference;
  static JsonNode schema;

  /**
   * Every key the parser accepts, by its path in the reference (targets[].rules[].latency.above).
   */
  static Set<String> accepted;

  /** The key table's rows: path to the cells after the key. */
  static Map<String, List<String>> rows;

  /**
   * Where a mapping's keys are checked: its path in the docs and in errors, and a file with an
   * entry in it.
   */
  record Place(String doc, String error, UnaryOperator<String> file) {
    Place child(String key) {
      return new Place(
          join(doc, key), join(error, key), entry -> file.apply(key + ": {" + entry + "}"));
    }
  }

  static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /**
   * The entry first (it is the one a rule's condition is taken from), then the required keys it
   * does not replace.
   */
  static String mapping(String entry, Map<String, String> required) {
    String key = entry.substring(0, entry.indexOf(':'));
    StringBuilder s = new StringBuilder("{").append(entry);
    required.forEach(
        (k, v) -> {
          if (!k.equals(key)) {
            s.append(", ").append(k).append(": ").append(v);
          }
        });
    return s.append('}').toString();
  }

  static final Place TOP =
      new Place(
          "",
          "",
          entry ->
              "version: 1\n"
                  + (entry.startsWith("targets:") ? "" : "targets: []\n")
                  + entry
                  + "\n");
  static final Place TARGET =
      new Place(
          "targets[]",
          "targets[0]",
          entry ->
              "version: 1\ntargets:\n  - "
                  + mapping(entry, ordered("name", "a", "class", "A", "rules", "[]"))
                  + "\n");
  static final Place RULE =
      new Place(
          "targets[].rules[]",
          "targets[0].rules[0]",
          entry ->
              "version: 1\ntargets:\n  - {name: a, class: A, rules: ["
                  + mapping(entry, ordered("name", "r", "action", "alert", "depth", "1"))
                  + "]}\n");

  static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static Path repoFile(String relative) {
    Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    Path p = base.resolveSibling(relative);
    return Files.exists(p) ? p : base.resolve(relative); // run from the repository root
  }

  @BeforeAll
  static void load() throws IOException {
    reference = Files.readString(repoFile("docs/reference.md"), StandardCharsets.UTF_8);
    schema = new ObjectMapper().readTree(repoFile("rules/firebreak-rules.schema.json").toFile());
    accepted = new TreeSet<>();
    for (Place p : List.of(TOP, TARGET, RULE)) {
      collect(p);
    }
    rows = new LinkedHashMap<>();
    int start = reference.indexOf("### Every key");
    assertThat(start).as("docs/reference.md has a section '### Every key'").isNotNegative();
    int end = reference.indexOf("\n#", start + 1);
    Matcher m = ROW.matcher(reference.substring(start, end < 0 ? reference.length() : end));
    while (m.find()) {
      List<String> cells = new ArrayList<>();
      for (String c : m.group(2).split("\\|", -1)) {
        cells.add(c.trim());
      }
      rows.put(m.group(1), cells.subList(0, cells.size() - 1)); // the line ends with '|'
    }
  }

  /** The keys accepted at {@code place} and, recursively, in the sections below them. */
  static void collect(Place place) {
    List<String> keys = keysAt(place);
    assertThat(keys)
        .as(
            "the parser lists the keys it accepts at %s",
            place.doc().isEmpty() ? "the top" : place.doc())
        .isNotNull();
    for (String key : keys) {
      accepted.add(join(place.doc(), key));
      Place child = place.child(key);
      if (keysAt(child) != null) {
        collect(child);
      }
    }
  }

  /**
   * The keys the parser lists for an unknown key at {@code place}, or null when it checks none
   * there.
   */
  static List<String> keysAt(Place place) {
    String file = place.file().apply(PROBE + ": 1");
    RulesException e =
        catchThrowableOfType(
            RulesException.class,
            () -> RulesParser.parse("probe.yaml", file.getBytes(StandardCharsets.UTF_8)));
    if (e == null) {
      return null; // any key goes here (none does today; alerts.labels takes label names)
    }
    for (RuleError error : e.errors()) {
      Matcher m = UNKNOWN.matcher(error.message());
      String key = m.matches() ? m.group(1) : "";
      // the message shortens a long key to its first 60 characters and '…'
      if (key.equals(join(place.error(), PROBE))
          || key.endsWith("…")
              && join(place.error(), PROBE).startsWith(key.substring(0, key.length() - 1))) {
        return List.of(m.group(2).split(", "));
      }
    }
    return null;
  }

  @Test
  void theProbesFindTheKeysOfEverySection() {
    // the probing itself must work: a few keys of each depth, known to exist
    assertThat(accepted)
        .contains(
            "version",
            "metrics.port",
            "alerts.labels",
            "kill-switch.half-open-calls",
            "targets[].capture-argument",
            "targets[].rules[].action",
            "targets[].rules[].latency.window",
            "targets[].rules[].calls-per-invocation.of");
    assertThat(accepted).noneMatch(k -> k.contains(PROBE));
  }

  @Test
  void everyKeyTheParserAcceptsHasARowWithADefault() {
    List<String> problems = new ArrayList<>();
    for (String key : accepted) {
      List<String> cells = rows.get(key);
      if (cells == null) {
        problems.add(key + ": no row `" + key + "` in the key table of docs/reference.md");
      } else if (cells.size() < 3 || cells.get(1).isEmpty()) {
        problems.add(key + ": the row needs | value | default | meaning |, found " + cells);
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void everyKeyTheParserAcceptsIsInTheSchema() {
    List<String> missing = new ArrayList<>();
    for (String key : accepted) {
      if (schemaNode(key) == null) {
        missing.add(key);
      }
    }
    assertThat(missing)
        .as("keys the parser accepts that rules/firebreak-rules.schema.json does not define")
        .isEmpty();
  }

  @Test
  void everyRowNamesAKeyTheParserAcceptsOrSaysItIsNotImplementedYet() {
    assertThat(rows).as("the key table of docs/reference.md").isNotEmpty();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, List<String>> row : rows.entrySet()) {
      String key = row.getKey();
      boolean marked = String.join(" ", row.getValue()).toLowerCase(Locale.ROOT).contains(NOT_YET);
      boolean isKey = accepted.contains(key);
      if (!isKey && !marked) {
        problems.add(
            key
                + ": the parser does not accept it; mark the row '"
                + NOT_YET
                + "' or fix the name");
      }
      if (isKey && String.join(" ", row.getValue()).contains("rejects the key")) {
        problems.add(key + ": the parser accepts it now; drop the '" + NOT_YET + "' mark");
      }
    }
    assertThat(problems).isEmpty();
  }

  /**
   * Keys the reference gives a default for ({@code targets}, {@code targets[].rules}) may be left
   * out: the parser takes the default, and no row still says the key is required.
   */
  @Test
  void aKeyWithADefaultMayBeLeftOut() throws Exception {
    Map<String, String> withoutIt =
        Map.of(
            "targets", "version: 1\n",
            "targets[].rules", "version: 1\ntargets:\n  - {name: a, class: A}\n");
    for (Map.Entry<String, String> e : withoutIt.entrySet()) {
      assertThat(rows.get(e.getKey())).as("the row of %s", e.getKey()).isNotNull();
      assertThat(String.join(" ", rows.get(e.getKey())))
          .as("the row of %s", e.getKey())
          .contains("`[]`")
          .doesNotContain(NOT_YET);
      RuleSet rs = RulesParser.parse("without.yaml", e.getValue().getBytes(StandardCharsets.UTF_8));
      assertThat(rs.targets().stream().flatMap(t -> t.rules().stream())).isEmpty();
    }
  }

  /**
   * The schema's definition of a key, following {@code $ref} and list items; null when it has none.
   */
  static JsonNode schemaNode(String docPath) {
    JsonNode node = schema;
    for (String segment : docPath.split("\\.")) {
      boolean list = segment.endsWith("[]");
      String name = list ? segment.substring(0, segment.length() - 2) : segment;
      node = resolve(node).path("properties").get(name);
      if (node == null) {
        return null;
      }
      if (list) {
        node = resolve(node).get("items");
        if (node == null) {
          return null;
        }
      }
    }
    return node;
  }

  static JsonNode resolve(JsonNode node) {
    while (node.has("$ref")) {
      String ref = node.get("$ref").asText();
      node = schema.at(ref.substring(1)); // "#/$defs/target" -> "/$defs/target"
    }
    return node;
  }
}
