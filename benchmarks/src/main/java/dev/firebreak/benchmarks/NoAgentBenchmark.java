package dev.firebreak.benchmarks;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The baselines of {@link InstrumentedBenchmark} in a forked JVM without the agent: whether merely
 * attaching the agent changes the cost of code it does not instrument.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class NoAgentBenchmark {

  public int x = 42;

  /** This thread's own histogram and counter, configured as the agent's (1 digit, 64 ns to 1 h). */
  private final Histogram histogram = new Histogram(64, 3_600_000_000_000L, 1);

  private long calls;

  @Setup
  public void checkNoAgent() {
    try {
      Class.forName("dev.firebreak.bootstrap.Probe", false, null);
      throw new IllegalStateException("the Firebreak agent is attached to the no-agent fork");
    } catch (ClassNotFoundException expected) {
      // no agent: as intended
    }
  }

  @Benchmark
  public int bare() {
    return Plain.work(x);
  }

  @Benchmark
  public int twoNanoTime(Blackhole bh) {
    long start = System.nanoTime();
    int r = Plain.work(x);
    bh.consume(System.nanoTime() - start);
    return r;
  }

  /**
   * A control for the 2-thread figures: the work the agent's closed path does (two clock reads, a
   * call count, a histogram record), by hand, into state only this thread touches. Nothing is
   * shared between the benchmark threads, so what its per-call cost gains from 1 to 2 threads is
   * the machine's, not contention.
   */
  @Benchmark
  public int perThreadHistogram() {
    long start = System.nanoTime();
    int r = Plain.work(x);
    long nanos = System.nanoTime() - start;
    calls++;
    histogram.recordValue(Math.min(Math.max(nanos, 0), 3_600_000_000_000L));
    return r;
  }

  /** A control: pure computation, no memory traffic, about as long as the instrumented call. */
  @Benchmark
  public void computeOnly() {
    Blackhole.consumeCPU(16);
  }
}
