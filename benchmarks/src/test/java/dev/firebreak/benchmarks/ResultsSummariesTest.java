package dev.firebreak.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code benchmarks/results/} keeps one summary per run (issue 18): a markdown file with the tables
 * and the command that made them, small enough that the repository does not grow with every run.
 * Raw output is regenerated on demand under {@code benchmarks/target/}.
 */
class ResultsSummariesTest {
  static final long MAX_FILE_BYTES = 300 * 1024;
  static final long MAX_TOTAL_BYTES = 2 * 1024 * 1024;

  /**
   * The command of the summary, from the repository root: an indented line, or the harnesses' own
   * "command" line ({@code ProcessComparison}, {@code StartupAtScale}, {@code run-rounds.sh},
   * {@code run-ab.sh}).
   */
  static final Pattern COMMAND =
      Pattern.compile(
          "(?m)^(?: {4}|    command +|- command: )"
              + "(java -(jar|cp) benchmarks/target/benchmarks\\.jar|sh benchmarks/run-(rounds|ab)\\.sh)");

  static final Pattern RESULTS_LINK = Pattern.compile("\\]\\((results/[^)#\\s]+)");

  static Path benchmarks() {
    Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    return Files.isDirectory(base.resolve("results"))
        ? base
        : base.resolve("benchmarks"); // module or repository root
  }

  static List<Path> summaries() throws IOException {
    try (Stream<Path> files = Files.walk(benchmarks().resolve("results"))) {
      return files.filter(p -> p.toString().endsWith(".md")).sorted().toList();
    }
  }

  @Test
  void everySummaryIsSmallAndNamesTheCommandThatMadeIt() throws IOException {
    List<Path> summaries = summaries();
    assertThat(summaries).isNotEmpty();
    long total = 0;
    for (Path p : summaries) {
      long size = Files.size(p);
      total += size;
      assertThat(size).as(p + " is a summary, not raw output").isLessThanOrEqualTo(MAX_FILE_BYTES);
      assertThat(COMMAND.matcher(Files.readString(p, StandardCharsets.UTF_8)).find())
          .as(p + " names its command (an indented line from the repository root)")
          .isTrue();
    }
    assertThat(total).as("all summaries together").isLessThanOrEqualTo(MAX_TOTAL_BYTES);
  }

  @Test
  void gitKeepsOnlyTheSummaries() throws IOException {
    List<String> rules =
        Files.readAllLines(benchmarks().resolve("results/.gitignore"), StandardCharsets.UTF_8)
            .stream()
            .filter(l -> !l.isBlank() && !l.startsWith("#"))
            .toList();
    assertThat(rules).containsExactly("*", "!*/", "!*.md", "!.gitignore");
  }

  @Test
  void everyResultsLinkOfTheReadmeResolves() throws IOException {
    String readme = Files.readString(benchmarks().resolve("README.md"), StandardCharsets.UTF_8);
    Matcher m = RESULTS_LINK.matcher(readme);
    List<String> missing = new ArrayList<>();
    int links = 0;
    while (m.find()) {
      links++;
      if (!Files.exists(benchmarks().resolve(m.group(1)))) {
        missing.add(m.group(1));
      }
    }
    assertThat(links).as("the README links its runs' summaries").isPositive();
    assertThat(missing).as("links from benchmarks/README.md to files that do not exist").isEmpty();
  }
}
