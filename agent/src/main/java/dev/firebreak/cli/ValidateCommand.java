package dev.firebreak.cli;

import dev.firebreak.rules.RuleError;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code validate RULES.yaml [MORE.yaml ...] [--classpath PATH]}: every error of every file as
 * {@code FILE:LINE:COLUMN: message}, exit 0 valid / 1 invalid / 2 usage (SPEC section 6).
 *
 * <p>With {@code --classpath}, each valid file's targets are also resolved against the classes on
 * PATH ({@link ClasspathCheck}): targets that match no class or no method, and fallbacks that
 * cannot serve a matched method, are errors too.
 */
public final class ValidateCommand {
  public static final int VALID = 0;
  public static final int INVALID = 1;
  public static final int USAGE = 2;

  static final String USAGE_LINE =
      "usage: java -jar firebreak-agent.jar validate RULES.yaml [MORE.yaml ...] [--classpath PATH]";
  static final String USAGE_TEXT =
      String.join(
          "\n",
          USAGE_LINE,
          "  checks every rules file; prints every error as FILE:LINE:COLUMN: message",
          "  --classpath PATH, -cp PATH   also resolve each target's classes and methods on PATH",
          "                               (jars and directories separated by '"
              + java.io.File.pathSeparator
              + "', DIR/* for every jar in DIR)",
          "  exit 0: all valid, 1: an error was found, 2: wrong usage");

  private ValidateCommand() {}

  /**
   * @param args everything after {@code validate}: files and options, in any order
   */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    List<String> files = new ArrayList<>();
    String classpath = null;
    boolean optionsDone = false;
    List<String> given = args == null ? List.of() : args;
    for (int i = 0; i < given.size(); i++) {
      String a = given.get(i);
      if (a == null) {
        continue;
      }
      if (optionsDone || !a.startsWith("-") || a.equals("-")) {
        files.add(a);
        continue;
      }
      String value = null;
      boolean isClasspath = false;
      if (a.equals("--")) {
        optionsDone = true;
        continue;
      } else if (a.equals("-h") || a.equals("--help")) {
        out.println(USAGE_TEXT);
        return VALID;
      } else if (a.equals("--classpath") || a.equals("--class-path") || a.equals("-cp")) {
        isClasspath = true;
        if (i + 1 >= given.size()) {
          return usage(
              err,
              a
                  + " needs a value: jars and directories separated by '"
                  + java.io.File.pathSeparator
                  + "'");
        }
        value = given.get(++i);
      } else if (a.startsWith("--classpath=") || a.startsWith("--class-path=")) {
        isClasspath = true;
        value = a.substring(a.indexOf('=') + 1);
      }
      if (!isClasspath) {
        return usage(err, "unknown option '" + a + "'");
      }
      if (classpath != null) {
        return usage(
            err,
            "--classpath given twice; join the entries with '" + java.io.File.pathSeparator + "'");
      }
      if (value == null || value.isBlank()) {
        return usage(
            err,
            "--classpath needs a value: jars and directories separated by '"
                + java.io.File.pathSeparator
                + "'");
      }
      classpath = value;
    }
    if (files.isEmpty()) {
      err.println(USAGE_LINE);
      return USAGE;
    }

    ClasspathCheck classes = null;
    if (classpath != null) {
      try {
        classes = ClasspathCheck.open(classpath);
      } catch (ClasspathCheck.BadClasspathException e) {
        return usage(err, e.getMessage());
      }
    }
    try {
      boolean allValid = true;
      for (String file : files) {
        allValid &= validate(file, classes, out);
      }
      out.flush();
      return allValid ? VALID : INVALID;
    } finally {
      if (classes != null) {
        classes.close();
      }
    }
  }

  private static boolean validate(String file, ClasspathCheck classes, PrintStream out) {
    RuleSet rules;
    try {
      rules = RulesParser.parse(Path.of(file));
    } catch (RulesException e) {
      for (RuleError error : e.errors()) {
        out.println(error);
      }
      return false;
    } catch (InvalidPathException e) {
      out.println(new RuleError(file, 1, 1, "cannot read the rules file: invalid path"));
      return false;
    }
    if (classes == null) {
      out.println(file + ": valid (" + summary(rules) + ")");
      return true;
    }
    ClasspathCheck.Result result = classes.check(rules);
    List<RuleError> all = new ArrayList<>(result.errors());
    all.addAll(result.warnings());
    all.sort(
        java.util.Comparator.comparingInt(RuleError::line).thenComparingInt(RuleError::column));
    for (RuleError e : all) {
      out.println(e);
    }
    if (!result.errors().isEmpty()) {
      return false;
    }
    out.println(
        file
            + ": valid ("
            + summary(rules)
            + "; on the class path: "
            + count(result.classes(), "class", "classes")
            + ", "
            + count(result.methods(), "method", "methods")
            + ")");
    return true;
  }

  private static int usage(PrintStream err, String problem) {
    err.println("firebreak: validate: " + problem);
    err.println(USAGE_LINE);
    return USAGE;
  }

  static String summary(RuleSet rules) {
    int targets = rules.targets().size();
    int ruleCount = rules.targets().stream().mapToInt(t -> t.rules().size()).sum();
    return count(targets, "target", "targets")
        + ", "
        + count(ruleCount, "rule", "rules")
        + (rules.autoFence() == null
            ? ""
            : ", auto-fence over " + count(rules.autoFence().packages().size(), "glob", "globs"))
        + ", sha256 "
        + rules.sha256().substring(0, 8)
        + "…";
  }

  private static String count(int n, String one, String many) {
    return n + " " + (n == 1 ? one : many);
  }
}
