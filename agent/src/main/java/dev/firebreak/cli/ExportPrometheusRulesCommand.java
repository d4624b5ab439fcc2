package dev.firebreak.cli;

import java.io.PrintStream;
import java.util.List;

/** {@code export-prometheus-rules RULES.yaml}: Prometheus alerting rules on stdout. (Being written.) */
public final class ExportPrometheusRulesCommand {
  private ExportPrometheusRulesCommand() {}

  public static int run(List<String> args, PrintStream out, PrintStream err) {
    err.println("firebreak: 'export-prometheus-rules' is not available in this build yet");
    return 2;
  }
}
