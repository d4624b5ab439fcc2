package dev.firebreak.benchmarks.scale;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 15's thread figures, each against no agent in the same run: {@code virtual} (a virtual
 * thread per task, one watched call recursing 3 deep each) and {@code churn} (short-lived platform
 * threads, 10 watched calls each), with no agent, a depth-only guard and a guard with a latency
 * rule too, alternating in rounds. Prints a markdown summary (the command, then one table per
 * workload) on stdout; children's output goes under {@code benchmarks/target/scale/}.
 *
 * <p>usage, from the repository root: {@code java -cp benchmarks/target/benchmarks.jar
 * dev.firebreak.benchmarks.scale.ScaleHarness [--java PATH] [--virtual N] [--churn N] [--rounds N]
 * [--heap 256m] [--agent JAR] [--before JAR]}; {@code --virtual 0} or {@code --churn 0} skips that
 * workload; {@code --before} adds the two agent configurations again with another agent jar (the
 * one before a change), in the same rounds. Besides elapsed time, each child reports the process's
 * CPU time over the measured run, which swings far less than elapsed time on a shared machine.
 */
public final class ScaleHarness {
  private static final String JAR = "benchmarks/target/benchmarks.jar";

  private ScaleHarness() {}

  record Run(
      long elapsedNs,
      long cpuNs,
      long carriersNs,
      long gcNs,
      long heapAfter,
      long calls,
      long agentCalls,
      int exit) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("--java", System.getProperty("java.home") + "/bin/java");
    o.put("--virtual", "1000000");
    o.put("--churn", "20000");
    o.put("--rounds", "3");
    o.put("--heap", "256m");
    o.put("--agent", "agent/target/firebreak-agent.jar");
    o.put("--before", "");
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!o.containsKey(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      o.put(args[i], args[i + 1]);
    }
    Path out = Path.of("benchmarks/target/scale");
    Files.createDirectories(out);
    StringBuilder report = new StringBuilder();
    report
        .append("    command  java -cp ")
        .append(JAR)
        .append(" dev.firebreak.benchmarks.scale.ScaleHarness ")
        .append(String.join(" ", args))
        .append("\n    java     ")
        .append(javaVersion(o.get("--java")))
        .append("\n    cpus     ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(", heap -Xmx")
        .append(o.get("--heap"))
        .append("\n\n");
    int rounds = Integer.parseInt(o.get("--rounds"));
    List<String> configs = new ArrayList<>(List.of("noagent", "depth", "latency"));
    if (!o.get("--before").isEmpty()) {
      configs.addAll(List.of("depth@before", "latency@before"));
    }
    for (String mode : List.of("virtual", "churn")) {
      int n = Integer.parseInt(o.get("--" + mode));
      if (n == 0) {
        continue;
      }
      Map<String, List<Run>> runs = new LinkedHashMap<>();
      for (int r = 0; r < rounds; r++) {
        for (String c : configs) {
          String agent = c.endsWith("@before") ? o.get("--before") : o.get("--agent");
          Run run = run(o.get("--java"), o.get("--heap"), agent, mode, n, c, out, r);
          System.err.printf(
              Locale.ROOT,
              "%s round %d %s: %.0f ms, cpu %.0f ms (carriers %.0f, gc %.0f), heap after GC %.1f"
                  + " MB, calls %d, agent %d, exit %d%n",
              mode,
              r + 1,
              c,
              run.elapsedNs / 1e6,
              run.cpuNs / 1e6,
              run.carriersNs / 1e6,
              run.gcNs / 1e6,
              run.heapAfter / 1e6,
              run.calls,
              run.agentCalls,
              run.exit);
          runs.computeIfAbsent(c, k -> new ArrayList<>()).add(run);
        }
      }
      report.append(table(mode, n, runs)).append('\n');
    }
    System.out.print(report);
  }

  private static String table(String mode, int n, Map<String, List<Run>> runs) {
    StringBuilder b = new StringBuilder();
    b.append(
        mode.equals("virtual")
            ? String.format(
                Locale.ROOT,
                "%,d virtual threads, one watched call (recursing 3 deep) each:%n%n",
                n)
            : String.format(
                Locale.ROOT, "%,d platform threads (4 at a time), 10 watched calls each:%n%n", n));
    b.append(
        "| configuration | elapsed (median) | ratio to no agent | per thread added | heap after GC"
            + " vs no agent | counts exact | failed runs | CPU (median) | CPU ratio |\n");
    b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    double base = median(runs.get("noagent"), Run::elapsedNs);
    double baseHeap = median(runs.get("noagent"), Run::heapAfter);
    double baseCpu = median(runs.get("noagent"), Run::cpuNs);
    for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
      List<Run> rs = e.getValue();
      double el = median(rs, Run::elapsedNs);
      double heap = median(rs, Run::heapAfter);
      double cpu = median(rs, Run::cpuNs);
      boolean agent = !e.getKey().equals("noagent");
      boolean exact = rs.stream().allMatch(r -> r.exit == 0 && (!agent || r.agentCalls == r.calls));
      long failed = rs.stream().filter(r -> r.exit != 0).count();
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f ms | %s | %s | %s | %s | %d of %d | %.0f ms | %s |%n",
              label(e.getKey()),
              el / 1e6,
              agent ? String.format(Locale.ROOT, "%.2fx", el / base) : "1.00x",
              agent ? String.format(Locale.ROOT, "%+.2f µs", (el - base) / 1e3 / n) : "",
              agent ? String.format(Locale.ROOT, "%+.1f MB", (heap - baseHeap) / 1e6) : "",
              agent ? (exact ? "yes" : "**no**") : "",
              failed,
              rs.size(),
              cpu / 1e6,
              agent ? String.format(Locale.ROOT, "%.2fx", cpu / baseCpu) : "1.00x"));
    }
    return b.toString();
  }

  private static String label(String config) {
    String before = config.endsWith("@before") ? " (`--before` agent)" : "";
    return switch (config.replace("@before", "")) {
      case "noagent" -> "no agent";
      case "depth" -> "Firebreak, `depth: 50, action: limit`" + before;
      default -> "Firebreak, depth + `latency` rule" + before;
    };
  }

  private static double median(List<Run> rs, java.util.function.ToLongFunction<Run> f) {
    long[] v = rs.stream().mapToLong(f).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
  }

  private static Run run(
      String java,
      String heap,
      String agent,
      String mode,
      int n,
      String config,
      Path out,
      int round)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-cp", JAR));
    int port = 0;
    if (!config.equals("noagent")) {
      port = freePort();
      Path rules = out.resolve("rules-" + config.replace("@before", "") + ".yaml");
      Files.writeString(
          rules,
          "version: 1\n"
              + "metrics: {port: "
              + port
              + "}\n"
              + "alerts: {log: 'off'}\n"
              + "targets:\n"
              + "  - name: scale\n"
              + "    class: bench.firebreak.targets.Scale\n"
              + "    method: work\n"
              + "    fallback: return-default\n"
              + "    rules:\n"
              + "      - {name: scale-deep, depth: 50, action: limit}\n"
              + (config.startsWith("latency")
                  ? "      - {name: scale-slow, latency: {percentile: 99, above: 1s, window: 30s},"
                      + " action: alert}\n"
                  : ""),
          StandardCharsets.UTF_8);
      cmd.add("-javaagent:" + agent + "=rules=" + rules);
    }
    cmd.addAll(List.of(ScaleApp.class.getName(), mode, String.valueOf(n), String.valueOf(port)));
    Path log = out.resolve(mode + "-" + config.replace('@', '-') + "-r" + (round + 1) + ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(15, TimeUnit.MINUTES)) {
      p.destroyForcibly();
    }
    int exit = p.exitValue();
    Map<String, Long> v = new LinkedHashMap<>();
    for (String line : Files.readAllLines(log)) {
      String[] kv = line.split(" ");
      if (kv.length == 2 && kv[0].matches("[A-Z_]+")) {
        try {
          v.put(kv[0], Long.parseLong(kv[1]));
        } catch (NumberFormatException e) {
          // not one of ours
        }
      }
    }
    return new Run(
        v.getOrDefault("ELAPSED_NS", 0L),
        v.getOrDefault("CPU_NS", 0L),
        v.getOrDefault("CPU_CARRIERS_NS", 0L),
        v.getOrDefault("CPU_GC_NS", 0L),
        v.getOrDefault("HEAP_AFTER", 0L),
        v.getOrDefault("CALLS", -1L),
        v.getOrDefault("AGENT_CALLS", -2L),
        exit == 0 && v.containsKey("ELAPSED_NS") ? 0 : Math.max(1, exit));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String javaVersion(String java) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
    String all = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    String[] lines = all.split("\n");
    return lines.length > 1 ? lines[1].trim() : Arrays.toString(lines);
  }
}
