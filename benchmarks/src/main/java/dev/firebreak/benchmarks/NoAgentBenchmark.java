package dev.firebreak.benchmarks;

import java.util.concurrent.TimeUnit;
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
}
