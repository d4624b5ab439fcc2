package dev.firebreak.benchmarks.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pooled percentiles and the A/A control line of the process comparison. */
class LatenciesTest {

    /** A log as {@code load --histogram-log} writes it: header, base time, intervals tagged "load". */
    static void writeLog(Path file, Histogram... intervals) throws IOException {
        try (PrintStream out = new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
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
        for (int i = 0; i < n; i++) h.recordValue(1 + (long) (Math.pow(r.nextDouble(), 4) * maxMicros)); // a long tail
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
        assertThatThrownBy(() -> Latencies.read(empty)).isInstanceOf(IOException.class).hasMessageContaining("no interval histogram");
        Path garbage = tmp.resolve("garbage.hlog");
        Files.writeString(garbage, "0.000,1.000,2.000,not-base64!\n");
        assertThatThrownBy(() -> Latencies.read(garbage)).isInstanceOf(IOException.class);
    }

    @Test
    void poolingIsOneHistogramOfEveryRoundsMessages() {
        List<Histogram> rounds = List.of(random(1, 9_000, 20_000), random(2, 9_000, 60_000), random(3, 9_000, 30_000));
        Histogram all = new Histogram(3_600_000_000L, 3);
        for (long seed = 1; seed <= 3; seed++) {
            Random r = new Random(seed);
            long max = seed == 1 ? 20_000 : seed == 2 ? 60_000 : 30_000;
            for (int i = 0; i < 9_000; i++) all.recordValue(1 + (long) (Math.pow(r.nextDouble(), 4) * max));
        }
        Histogram pooled = Latencies.pool(rounds);
        assertThat(pooled.getTotalCount()).isEqualTo(27_000);
        for (double p : new double[] {50, 90, 99, 99.9}) {
            assertThat(Latencies.ms(pooled, p)).as("p" + p).isEqualTo(all.getValueAtPercentile(p) / 1000.0);
        }
        assertThat(pooled.getMaxValue()).isEqualTo(all.getMaxValue());
        // the inputs are left as they were
        assertThat(rounds.get(0).getTotalCount()).isEqualTo(9_000);
        // and the pooled p99 is not the median of the rounds' p99s (round 2's tail weighs by its messages)
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
}
