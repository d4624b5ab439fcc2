package dev.firebreak.benchmarks.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pooled percentiles and the A/A control line of the process comparison. */
class LatenciesTest {

  /**
   * A log as {@code load --histogram-log} writes it: header, base time, intervals tagged "load".
   */
  static void writeLog(Path file, Histogram... intervals) throws IOException {
    try (PrintStream out =
        new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
      HistogramLogWriter w = new HistogramLogWriter(out);
      w.outputComment("latency from scheduled send to readable, microseconds");
      w.outputLogFormatVersion();
      w.outputStartTime(1_796_000_000_000L);
      w.outputBaseTime(1_796_000_000_000L);
      w.setBaseTime(1_796_000_000_000L);
      w.outputLegend();
      for (int i = 0; i < intervals.length; i++) {
        Histogram h = intervals[i].copy();
        h.setTag("load");
        w.outputIntervalHistogram(30.0 + i, 31.0 + i, h, 1000.0);
      }
    }
  }

  static Histogram random(long seed, int n, long maxMicros) {
    Histogram h = new Histogram(3_600_000_000L, 3);
    Random r = new Random(seed);
    for (int i = 0; i < n; i++)
      h.recordValue(1 + (long) (Math.pow(r.nextDouble(), 4) * maxMicros)); // a long tail
    return h;
  }

  @Test
  void readsTheLogBackAsWritten(@TempDir Path tmp) throws IOException {
    Histogram h = random(1, 5_000, 40_000);
    Path log = tmp.resolve("load-noagent-1-generator.hlog");
    writeLog(log, h);
    Histogram back = Latencies.read(log);
    assertThat(back.getTotalCount()).isEqualTo(5_000);
    assertThat(back).isEqualTo(h); // same counts in the same buckets
    assertThat(back.getValueAtPercentile(99)).isEqualTo(h.getValueAtPercentile(99));
  }

  @Test
  void addsEveryIntervalOfALog(@TempDir Path tmp) throws IOException {
    Path log = tmp.resolve("two.hlog");
    writeLog(log, random(1, 1_000, 10_000), random(2, 3_000, 10_000));
    assertThat(Latencies.read(log).getTotalCount()).isEqualTo(4_000);
  }

  @Test
  void aLogWithoutAHistogramIsAnError(@TempDir Path tmp) throws IOException {
    Path empty = tmp.resolve("empty.hlog");
    writeLog(empty);
    assertThatThrownBy(() -> Latencies.read(empty))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no interval histogram");
    Path garbage = tmp.resolve("garbage.hlog");
    Files.writeString(garbage, "0.000,1.000,2.000,not-base64!\n");
    assertThatThrownBy(() -> Latencies.read(garbage)).isInstanceOf(IOException.class);
  }

  @Test
  void poolingIsOneHistogramOfEveryRoundsMessages() {
    List<Histogram> rounds =
        List.of(random(1, 9_000, 20_000), random(2, 9_000, 60_000), random(3, 9_000, 30_000));
    Histogram all = new Histogram(3_600_000_000L, 3);
    for (long seed = 1; seed <= 3; seed++) {
      Random r = new Random(seed);
      long max = seed == 1 ? 20_000 : seed == 2 ? 60_000 : 30_000;
      for (int i = 0; i < 9_000; i++)
        all.recordValue(1 + (long) (Math.pow(r.nextDouble(), 4) * max));
    }
    Histogram pooled = Latencies.pool(rounds);
    assertThat(pooled.getTotalCount()).isEqualTo(27_000);
    for (double p : new double[] {50, 90, 99, 99.9}) {
      assertThat(Latencies.ms(pooled, p))
          .as("p" + p)
          .isEqualTo(all.getValueAtPercentile(p) / 1000.0);
    }
    assertThat(pooled.getMaxValue()).isEqualTo(all.getMaxValue());
    // the inputs are left as they were
    assertThat(rounds.get(0).getTotalCount()).isEqualTo(9_000);
    // and the pooled p99 is not the median of the rounds' p99s (round 2's tail weighs by its
    // messages)
    List<Double> p99s = new ArrayList<>();
    for (Histogram h : rounds) p99s.add(Latencies.ms(h, 99));
    assertThat(Latencies.ms(pooled, 99)).isNotEqualTo(ProcessComparison.median(p99s));
  }

  @Test
  void nothingToPoolIsNotANumber() {
    Histogram none = Latencies.pool(List.of());
    assertThat(none.getTotalCount()).isZero();
    assertThat(Latencies.ms(none, 99)).isNaN();
    assertThat(Latencies.ms(null, 99)).isNaN();
    assertThat(Latencies.ratio(2, 0)).isNaN();
    assertThat(Latencies.ratio(Double.NaN, 2)).isNaN();
    assertThat(Latencies.ratio(3, 2)).isEqualTo(1.5);
  }

  // ---------------------------------------------------------------- the table and the A/A line

  static Histogram constant(long micros, int n) {
    return twoValues(micros, n, micros, 0);
  }

  static Histogram twoValues(long micros, int n, long tailMicros, int tail) {
    Histogram h = new Histogram(3_600_000_000L, 3);
    h.recordValueWithCount(micros, n); // below 2048 µs a value is its own bucket at 3 digits
    if (tail > 0) h.recordValueWithCount(tailMicros, tail);
    return h;
  }

  static ProcessComparison.Round round(
      double p50, double p99, double cpuS, double allocatedMb, Histogram latency) {
    ProcessComparison.Round rd = new ProcessComparison.Round();
    rd.measured =
        Map.of(
            "sent",
            1000.0,
            "delivered",
            (double) latency.getTotalCount(),
            "success_pct",
            100.0,
            "p50_ms",
            p50,
            "p99_ms",
            p99,
            "max_ms",
            p99);
    rd.cpuS = cpuS;
    rd.cpuSJvm = cpuS;
    rd.allocatedBytes = allocatedMb * 1e6;
    rd.latency = latency;
    return rd;
  }

  static ProcessComparison.Result result(
      Configuration c, double startupMs, ProcessComparison.Round... rounds) {
    ProcessComparison.Result r = new ProcessComparison.Result(c);
    r.startupMs.add(startupMs);
    r.rounds.addAll(List.of(rounds));
    return r;
  }

  static Map<String, Configuration> known() {
    Path x = Path.of("x.jar");
    return Configuration.all(x, x, x, x, x, x, x, x, null);
  }

  @Test
  void theAaControlIsNoAgentOnceMoreAndLastByDefault() {
    Configuration noagent = known().get("noagent");
    Configuration again = known().get(ProcessComparison.AA_CONTROL);
    assertThat(again.jvmArgs()).isEqualTo(noagent.jvmArgs()).isEmpty();
    assertThat(again.check()).isEqualTo(Configuration.Check.NONE);
    assertThat(again.underLoad()).isTrue();
    assertThat(again).isNotEqualTo(noagent); // naming both is not naming one twice
    assertThat(Configuration.DEFAULT)
        .endsWith(ProcessComparison.AA_CONTROL)
        .doesNotHaveDuplicates();
  }

  @Test
  void theHeapIsFixedOnlyWhenAsked() {
    assertThat(ProcessComparison.parse(new String[0]).heapFlags()).containsExactly("-Xmx512m");
    assertThat(
            ProcessComparison.parse(new String[] {"--heap", "1g", "--min-heap=256m"}).heapFlags())
        .containsExactly("-Xms256m", "-Xmx1g");
  }

  @Test
  void jvmArgsRepeatAndTheBeforeJarIsOptional() {
    ProcessComparison.Options o =
        ProcessComparison.parse(
            new String[] {
              "--jvm-arg=-XX:+UnlockDiagnosticVMOptions",
              "--jvm-arg",
              "-XX:StartFlightRecording=filename={dir}/{name}.jfr",
              "--firebreak-before",
              "before.jar"
            });
    assertThat(o.jvmArgs())
        .containsExactly(
            "-XX:+UnlockDiagnosticVMOptions", "-XX:StartFlightRecording=filename={dir}/{name}.jfr");
    assertThat(o.firebreakBefore()).isEqualTo(Path.of("before.jar").toAbsolutePath());
    assertThat(ProcessComparison.parse(new String[0]).jvmArgs()).isEmpty();
    assertThat(ProcessComparison.parse(new String[0]).firebreakBefore()).isNull();
  }

  @Test
  void theDiagnosticConfigurationsDifferFromFirebreakInOneThingEach() {
    Path agent = Path.of("fb.jar");
    Path noTarget = Path.of("no-target.yaml");
    Map<String, Configuration> m =
        Configuration.all(
            agent,
            Path.of("rules.yaml"),
            Path.of("o.jar"),
            Path.of("e.jar"),
            Path.of("empty.jar"),
            Path.of("empty-transformer.jar"),
            noTarget,
            Path.of("auto-fence.yaml"),
            Path.of("before.jar"));
    assertThat(m.get("firebreak").jvmArgs())
        .containsExactly("-javaagent:fb.jar=rules=rules.yaml,port={port}");
    assertThat(m.get("firebreak-lazy").jvmArgs())
        .containsExactly("-javaagent:fb.jar=rules=rules.yaml,port={port},startup=lazy");
    assertThat(m.get("firebreak-idle").jvmArgs())
        .containsExactly("-javaagent:fb.jar=rules=no-target.yaml,port={port}");
    assertThat(m.get("firebreak-auto-fence").jvmArgs())
        .containsExactly("-javaagent:fb.jar=rules=auto-fence.yaml,port={port}");
    assertThat(m.get("firebreak-before").jvmArgs())
        .containsExactly("-javaagent:before.jar=rules=rules.yaml,port={port}");
    assertThat(m.get("firebreak-before").check()).isEqualTo(Configuration.Check.FIREBREAK_METRICS);
    assertThat(known()).doesNotContainKey("firebreak-before"); // only with --firebreak-before
    assertThat(m.get("firebreak-idle").check())
        .isEqualTo(Configuration.Check.NONE); // no call to count
    assertThat(m.get("empty-agent-load").jvmArgs()).isEqualTo(m.get("empty-agent").jvmArgs());
    assertThat(m.get("empty-transformer").jvmArgs())
        .containsExactly("-javaagent:empty-transformer.jar");
    assertThat(m.get("empty-transformer").underLoad()).isFalse(); // start-up only
    assertThat(m.get("empty-agent-load").underLoad()).isTrue();
    assertThat(m.get("empty-agent").underLoad()).isFalse();
    assertThat(Configuration.DEFAULT)
        .doesNotContain("firebreak-lazy", "firebreak-idle", "empty-agent-load");
    assertThat(ProcessComparison.NO_TARGET_RULES).contains("class: com.acme.chat.NoSuchClass");
  }

  @Test
  void theTableHasPooledColumnsAndTheAaLineUnderIt() {
    Map<String, Configuration> known = known();
    ProcessComparison.Result base =
        result(
            known.get("noagent"),
            400,
            round(2.0, 10.0, 6.0, 300, constant(1000, 1000)),
            round(2.0, 12.0, 5.0, 300, constant(1000, 1000)),
            round(2.0, 14.0, 7.0, 300, constant(1000, 1000)));
    ProcessComparison.Result empty = result(known.get("empty-agent"), 440);
    ProcessComparison.Result again =
        result(
            known.get(ProcessComparison.AA_CONTROL),
            420,
            round(2.0, 11.0, 6.3, 330, twoValues(1030, 990, 1200, 10)),
            round(2.0, 13.2, 6.3, 330, twoValues(1030, 990, 1200, 10)),
            round(2.0, 15.0, 5.0, 330, twoValues(1030, 990, 1200, 10)));
    assertThat(again.pooled().getTotalCount()).isEqualTo(3000);
    assertThat(again.pooledP99()).isEqualTo(1.03);
    assertThat(again.pooledP999()).isEqualTo(1.2);

    String line = ProcessComparison.aaControl(base, again);
    assertThat(line)
        .isEqualTo(
            "A/A control: no agent against itself (noagent-again / noagent): start-up 1.05x, p50 1.00x, "
                + "p99 1.10x, pooled p50 1.03x, pooled p99 1.03x, pooled p99.9 1.20x, CPU 1.05x, allocated 1.10x"
                + " — differences of this size are noise in this run.");
    assertThat(ProcessComparison.aaControl(base, null)).isNull();
    assertThat(ProcessComparison.aaControl(null, again)).isNull();

    ProcessComparison.Options o =
        new ProcessComparison.Options(
            300,
            Duration.ofSeconds(30),
            Duration.ofSeconds(30),
            1,
            3,
            List.of("noagent", "empty-agent", ProcessComparison.AA_CONTROL),
            Path.of("app.jar"),
            Path.of("agent.jar"),
            Path.of("rules.yaml"),
            Path.of("peers"),
            Path.of("out"),
            "512m",
            "",
            false,
            List.of(),
            null);
    String table =
        ProcessComparison.table(
            List.of(base, empty, again), base, o, Map.of("loadavg_end", "0.01 0.02 0.03"));
    assertThat(table)
        .contains("the pooled percentiles are of all rounds' measured messages in one histogram");
    assertThat(table)
        .contains(
            "| configuration | startup ms | startup beyond an empty agent | p50 ms | p99 ms "
                + "| p50 ms (pooled) | p99 ms (pooled) | p99.9 ms (pooled) | CPU s | allocated MB |\n");
    assertThat(table)
        .contains(
            "| no agent, measured again (A/A control) | 420 (1.05x) |  | 2.00 (1.00x) | 13.20 (1.10x) "
                + "| 1.03 (1.03x) | 1.03 (1.03x) | 1.20 (1.20x) | 6.30 (1.05x) | 330.0 (1.10x) |\n");
    assertThat(table)
        .contains(
            "| an empty Java agent (premain returns at once; start-up only) | 440 (1.10x) |  | n/a | n/a "
                + "| n/a | n/a | n/a | n/a | n/a |\n");
    // the A/A line sits right under the main table
    assertThat(table).contains("| 330.0 (1.10x) |\n\n" + line + "\n");
  }
}
