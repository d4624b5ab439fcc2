package dev.firebreak.layout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent's packages depend on each other without a cycle (a package per concern: a cycle means
 * two concerns that cannot be understood, tested or changed apart). Read from the imports of the
 * main sources.
 */
class PackageCyclesTest {
  private static final Path SOURCES = Path.of("src/main/java/dev/firebreak");
  private static final Pattern IMPORT =
      Pattern.compile("^import (?:static )?dev\\.firebreak\\.([a-z]+)\\.", Pattern.MULTILINE);

  @Test
  void theAgentsPackagesFormNoCycle() throws IOException {
    Map<String, Set<String>> uses = new TreeMap<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = SOURCES.relativize(f).getName(0).toString();
        Set<String> deps = uses.computeIfAbsent(pkg, k -> new TreeSet<>());
        Matcher m = IMPORT.matcher(Files.readString(f));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            deps.add(m.group(1));
          }
        }
      }
    }
    assertThat(uses).containsKeys("runtime", "alert", "admin", "metrics", "rules");
    List<String> cycles = new ArrayList<>();
    for (String start : uses.keySet()) {
      List<String> path = new ArrayList<>(List.of(start));
      if (reaches(uses, start, start, path, new TreeSet<>())) {
        cycles.add(String.join(" -> ", path));
      }
    }
    assertThat(cycles).as("package cycles (%s)", uses).isEmpty();
  }

  private static boolean reaches(
      Map<String, Set<String>> uses,
      String from,
      String goal,
      List<String> path,
      Set<String> seen) {
    for (String next : uses.getOrDefault(from, Set.of())) {
      path.add(next);
      if (next.equals(goal) || (seen.add(next) && reaches(uses, next, goal, path, seen))) {
        return true;
      }
      path.remove(path.size() - 1);
    }
    return false;
  }
}
