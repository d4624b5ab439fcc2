package dev.firebreak.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar firebreak-agent.jar VERB ...}. Exit codes (SPEC section 6): 0 success, 1 the
 * rules are invalid or the JVM refused the attach, 2 wrong usage.
 */
public final class Main {
  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar firebreak-agent.jar <verb> ...",
          "  validate [--classpath PATH] RULES.yaml [MORE.yaml ...]   check rules files; exit 0 valid, 1 invalid",
          "  attach                                    list the JVMs this user can attach to",
          "  attach <pid> RULES.yaml | <pid> --detach  load the agent into a running JVM, or drop its rules",
          "  export-prometheus-rules [--selector 'job=\"chat\"'] [--window 5m] RULES.yaml",
          "                                            Prometheus alerting and recording rules on stdout",
          "as an agent: java -javaagent:firebreak-agent.jar=rules=RULES.yaml[,port=9464][,host=127.0.0.1] -jar app.jar");

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args), System.out, System.err));
  }

  static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty()
        || args.get(0).equals("-h")
        || args.get(0).equals("--help")
        || args.get(0).equals("help")) {
      (args.isEmpty() ? err : out).println(USAGE);
      return args.isEmpty() ? 2 : 0;
    }
    List<String> rest = args.subList(1, args.size());
    switch (args.get(0)) {
      case "validate":
        return ValidateCommand.run(rest, out, err);
      case "attach":
        return AttachCommand.run(rest, out, err);
      case "export-prometheus-rules":
        return ExportPrometheusRulesCommand.run(rest, out, err);
      default:
        err.println("firebreak: unknown verb '" + args.get(0) + "'");
        err.println(USAGE);
        return 2;
    }
  }
}
