package dev.firebreak.benchmarks.scale;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 15's broad guard: every method of {@code com.fasterxml.jackson.**} under one depth rule, a
 * JSON round trip ({@link JsonApp}) against no agent, alternating in rounds. Prints a markdown
 * summary (command first) on stdout; children's output under {@code benchmarks/target/scale/}.
 *
 * <p>usage, from the repository root: {@code java -cp benchmarks/target/benchmarks.jar
 * dev.firebreak.benchmarks.scale.BroadGuardHarness [N [ROUNDS [REPEATS [net]]]]} (defaults 100000 3
 * 3: each child runs ROUNDS x N round trips; REPEATS children per configuration). With {@code net},
 * the agent runs the auto-fence's net over {@code com.fasterxml.jackson.**} instead of the target.
 * Arguments starting with {@code -} go to the agent's child JVM only (e.g. {@code
 * -XX:CompileCommand=dontinline,dev.firebreak.runtime.Engine::enter}), for experiments.
 *
 * <p>Besides the elapsed time of all rounds, each child prints each round's time ({@code
 * ROUND_NS}); the table also gives the median round (the steady state, JIT warm-up mostly past).
 */
public final class BroadGuardHarness {
  private BroadGuardHarness() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    List<String> positional = new ArrayList<>();
    List<String> jvmArgs = new ArrayList<>();
    for (String a : args) {
      (a.startsWith("-") ? jvmArgs : positional).add(a);
    }
    args = positional.toArray(new String[0]);
    boolean net = args.length > 3 && args[3].equals("net");
    Path out = Path.of("benchmarks/target/scale");
    Files.createDirectories(out);
    String java = System.getProperty("java.home") + "/bin/java";
    List<Long> none = new ArrayList<>();
    List<Long> agent = new ArrayList<>();
    List<Long> noneRound = new ArrayList<>();
    List<Long> agentRound = new ArrayList<>();
    Map<String, Long> last = new HashMap<>();
    for (int r = 0; r < repeats; r++) {
      Map<String, Long> base = run(java, n, rounds, false, net, List.of(), out, r);
      none.add(base.get("ELAPSED_NS"));
      noneRound.add(base.get("ROUND_MEDIAN_NS"));
      last = run(java, n, rounds, true, net, jvmArgs, out, r);
      agent.add(last.get("ELAPSED_NS"));
      agentRound.add(last.get("ROUND_MEDIAN_NS"));
      System.err.printf(
          Locale.ROOT,
          "repeat %d: no agent %.0f ms, agent %.0f ms, /metrics %d bytes%n",
          r + 1,
          none.get(r) / 1e6,
          agent.get(r) / 1e6,
          last.getOrDefault("METRICS_BYTES", -1L));
    }
    double a = median(agent);
    double b = median(none);
    double ar = median(agentRound);
    double br = median(noneRound);
    StringBuilder s = new StringBuilder();
    s.append("    command  java -cp benchmarks/target/benchmarks.jar ")
        .append("dev.firebreak.benchmarks.scale.BroadGuardHarness ")
        .append(String.join(" ", positional))
        .append(jvmArgs.isEmpty() ? "" : " " + String.join(" ", jvmArgs))
        .append("\n    java     ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.version"))
        .append("\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "%d x %,d JSON round trips of a 20-line order, %s, %d runs each:%n%n",
                rounds,
                n,
                net
                    ? "`auto-fence: {packages: [\"com.fasterxml.jackson.**\"]}` (the net, no target)"
                    : "`class: com.fasterxml.jackson.**`, `method: \"*\"`, one `depth` rule",
                repeats))
        .append(
            "| configuration | elapsed (median) | ratio to no agent | median round | ratio | /metrics bytes | series | jackson `calls_total` series |\n")
        .append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        .append(
            String.format(
                Locale.ROOT,
                "| no agent | %.0f ms | 1.00x | %.0f ms | 1.00x | | | |%n",
                b / 1e6,
                br / 1e6))
        .append(
            String.format(
                Locale.ROOT,
                "| Firebreak | %.0f ms | %.2fx | %.0f ms | %.2fx | %d | %d | %d |%n",
                a / 1e6,
                a / b,
                ar / 1e6,
                ar / br,
                last.getOrDefault("METRICS_BYTES", -1L),
                last.getOrDefault("METRICS_SERIES", -1L),
                last.getOrDefault("JACKSON_SERIES", -1L)));
    System.out.print(s);
  }

  private static double median(List<Long> v) {
    long[] a = v.stream().mapToLong(Long::longValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2.0;
  }

  private static Map<String, Long> run(
      String java,
      int n,
      int rounds,
      boolean withAgent,
      boolean net,
      List<String> jvmArgs,
      Path out,
      int repeat)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", "benchmarks/target/benchmarks.jar"));
    int port = 0;
    if (withAgent) {
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path rules = out.resolve("rules-jackson.yaml");
      Files.writeString(
          rules,
          "version: 1\n"
              + "metrics: {port: "
              + port
              + "}\n"
              + "alerts: {log: 'off'}\n"
              + (net
                  ? "auto-fence: {packages: [\"com.fasterxml.jackson.**\"]}\n"
                  : "targets:\n"
                      + "  - name: jackson\n"
                      + "    class: com.fasterxml.jackson.**\n"
                      + "    method: \"*\"\n"
                      + "    fallback: return-default\n"
                      + "    rules:\n"
                      + "      - {name: jackson-deep, depth: 200, action: alert}\n"),
          StandardCharsets.UTF_8);
      cmd.add("-javaagent:agent/target/firebreak-agent.jar=rules=" + rules);
    }
    cmd.addAll(
        List.of(
            JsonApp.class.getName(),
            String.valueOf(n),
            String.valueOf(rounds),
            String.valueOf(port)));
    Path log =
        out.resolve("json-" + (withAgent ? "agent" : "noagent") + "-r" + (repeat + 1) + ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(20, TimeUnit.MINUTES)) {
      p.destroyForcibly();
    }
    Map<String, Long> v = new HashMap<>();
    List<Long> roundTimes = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("ROUND_NS ")) {
        roundTimes.add(Long.parseLong(line.substring("ROUND_NS ".length()).trim()));
        continue;
      }
      String[] kv = line.split(" ");
      if (kv.length == 2 && kv[0].matches("[A-Z_]+")) {
        try {
          v.put(kv[0], Long.parseLong(kv[1]));
        } catch (NumberFormatException e) {
          // not one of ours
        }
      }
    }
    v.putIfAbsent("ELAPSED_NS", -1L);
    v.put("ROUND_MEDIAN_NS", roundTimes.isEmpty() ? -1L : (long) median(roundTimes));
    return v;
  }
}
