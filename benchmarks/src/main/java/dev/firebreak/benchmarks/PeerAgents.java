package dev.firebreak.benchmarks;

import java.nio.file.Path;
import java.util.List;

/**
 * The peer agents' JVM options, as every comparison here runs them: nothing exported or sent, and a
 * span (OpenTelemetry) or a trace (Elastic APM) for each named method, given as {@code {class,
 * method}}.
 */
public final class PeerAgents {
  private PeerAgents() {}

  /** The OpenTelemetry agent at {@code agent}: exporters none, {@code methods} included. */
  public static List<String> otel(Path agent, String service, List<String[]> methods) {
    StringBuilder include = new StringBuilder();
    for (String[] cm : methods) {
      if (include.length() > 0) include.append(';');
      include.append(cm[0]).append('[').append(cm[1]).append(']');
    }
    return List.of(
        "-javaagent:" + agent,
        "-Dotel.service.name=" + service,
        "-Dotel.traces.exporter=none",
        "-Dotel.metrics.exporter=none",
        "-Dotel.logs.exporter=none",
        "-Dotel.instrumentation.methods.include=" + include);
  }

  /**
   * The Elastic APM agent at {@code agent}: nothing sent, no central configuration, errors only in
   * its log, {@code methods} traced; {@code packages} are the application's.
   */
  public static List<String> elastic(
      Path agent, String service, String packages, List<String[]> methods) {
    StringBuilder traceMethods = new StringBuilder();
    for (String[] cm : methods) {
      if (traceMethods.length() > 0) traceMethods.append(',');
      traceMethods.append(cm[0]).append('#').append(cm[1]);
    }
    return List.of(
        "-javaagent:" + agent,
        "-Delastic.apm.service_name=" + service,
        "-Delastic.apm.application_packages=" + packages,
        "-Delastic.apm.disable_send=true",
        "-Delastic.apm.central_config=false",
        "-Delastic.apm.cloud_provider=NONE",
        "-Delastic.apm.log_level=ERROR",
        "-Delastic.apm.trace_methods=" + traceMethods);
  }
}
