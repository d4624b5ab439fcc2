package dev.firebreak.cli;

import dev.firebreak.rules.RuleError;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/** {@code validate rules.yaml [more.yaml ...]}: every error of every file, exit 0 valid / 1 invalid / 2 usage. */
public final class ValidateCommand {
  public static final int VALID = 0;
  public static final int INVALID = 1;
  public static final int USAGE = 2;

  private ValidateCommand() {}

  public static int run(List<String> files, PrintStream out, PrintStream err) {
    if (files == null || files.isEmpty()) {
      err.println("usage: java -jar firebreak-agent.jar validate RULES.yaml [MORE.yaml ...]");
      return USAGE;
    }
    boolean allValid = true;
    for (String file : files) {
      try {
        RuleSet rules = RulesParser.parse(Path.of(file));
        out.println(file + ": valid (" + summary(rules) + ")");
      } catch (RulesException e) {
        allValid = false;
        for (RuleError error : e.errors()) {
          out.println(error);
        }
      } catch (InvalidPathException e) {
        allValid = false;
        out.println(new RuleError(file, 1, 1, "cannot read the rules file: invalid path"));
      }
    }
    out.flush();
    return allValid ? VALID : INVALID;
  }

  static String summary(RuleSet rules) {
    int targets = rules.targets().size();
    int ruleCount = rules.targets().stream().mapToInt(t -> t.rules().size()).sum();
    return count(targets, "target") + ", " + count(ruleCount, "rule") + ", sha256 " + rules.sha256().substring(0, 8) + "…";
  }

  private static String count(int n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }
}
