package dev.firebreak.benchmarks;

import com.codahale.metrics.MetricRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Histogram;
import io.prometheus.client.Summary;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Recorder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The same job done by hand with the libraries services already time methods with: read the clock
 * around the same {@link Plain#work} and record the latency into one metric shared by all threads,
 * as a service does. Compare with {@link InstrumentedBenchmark#firebreak}, which also counts the
 * call, tracks depth and checks the rules. No agent in this fork.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class PeersBenchmark {

  public int x = 42;

  private Histogram promHistogram;
  private Summary promSummary;
  private Timer micrometerTimer;
  private com.codahale.metrics.Timer dropwizardTimer;
  private Recorder hdrRecorder;

  @Setup
  public void setUp() {
    CollectorRegistry registry = new CollectorRegistry();
    promHistogram = Histogram.build("work_seconds", "work").register(registry);
    promSummary = Summary.build("work_summary_seconds", "work").register(registry);
    micrometerTimer = Timer.builder("work").register(new SimpleMeterRegistry());
    dropwizardTimer = new MetricRegistry().timer("work");
    hdrRecorder = new Recorder(3);
  }

  @Benchmark
  public int simpleclientHistogram() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    promHistogram.observe((System.nanoTime() - start) / 1e9);
    return r;
  }

  @Benchmark
  public int simpleclientSummary() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    promSummary.observe((System.nanoTime() - start) / 1e9);
    return r;
  }

  @Benchmark
  public int micrometerTimer() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    micrometerTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    return r;
  }

  @Benchmark
  public int dropwizardTimer() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    dropwizardTimer.update(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    return r;
  }

  @Benchmark
  public int hdrHistogramRecorder() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    hdrRecorder.recordValue(System.nanoTime() - start);
    return r;
  }
}
