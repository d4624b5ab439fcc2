package dev.firebreak.benchmarks;

import bench.firebreak.targets.Forced;
import bench.firebreak.targets.Guarded;
import bench.firebreak.targets.Unguarded;
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
 * Per-call cost of a Firebreak-instrumented method, in a forked JVM started with the agent.
 *
 * <p>Every benchmark calls the same one-line static method ({@code x * 31 + 7}, never inlined into
 * the benchmark loop), only the class differs:
 *
 * <ul>
 *   <li>{@code bare}: {@link Plain#work}, under {@code dev.firebreak.*}, which the agent never
 *       touches.
 *   <li>{@code twoNanoTime}: {@link Plain#work} between two {@link System#nanoTime()} calls: the
 *       floor of timing one call, which the added cost of {@code firebreak} is compared to.
 *   <li>{@code firebreak}: {@link Guarded#work}, target {@code bench-guarded}: a depth rule (1000,
 *       trip) and a latency rule (p99 above 1s over 30s, alert) on every call.
 *   <li>{@code firebreakOpen}: {@link Forced#work}, target {@code bench-forced} with {@code force:
 *       open} and {@code fallback: return-default}: the short-circuit path (the body never runs,
 *       returns 0).
 *   <li>{@code unmatched}: {@link Unguarded#work}, a class no target names, in the same JVM.
 * </ul>
 *
 * <p>The agent jar and the rules file are given relative to the working directory, so run from the
 * repository root (see README.md); {@link #checkAgent()} fails the run if the agent is not
 * attached, rather than measuring an uninstrumented method. To run from elsewhere, replace the
 * fork's arguments on the command line: {@code -jvmArgsAppend
 * "-javaagent:/abs/firebreak-agent.jar=rules=/abs/firebreak-bench.yaml"}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-javaagent:" + InstrumentedBenchmark.AGENT_JAR + "=rules=" + InstrumentedBenchmark.RULES
    })
@State(Scope.Thread)
public class InstrumentedBenchmark {

  /** The agent jar, relative to the working directory (the repository root). */
  public static final String AGENT_JAR = "agent/target/firebreak-agent.jar";

  /** The rules file (also packaged in the benchmarks jar), relative to the repository root. */
  public static final String RULES = "benchmarks/src/main/resources/firebreak-bench.yaml";

  /** Read from a field on every call, so the JIT cannot fold the computation away. */
  public int x = 42;

  @Setup
  public void checkAgent() throws InterruptedException {
    // the agent starts on its own thread (startup=background): wait for its instrumentation
    long deadline = System.nanoTime() + 60_000_000_000L;
    while ("starting".equals(System.getProperty("firebreak.status"))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    boolean probe;
    try {
      Class.forName("dev.firebreak.bootstrap.Probe", false, null);
      probe = true;
    } catch (ClassNotFoundException e) {
      probe = false;
    }
    // Forced is force: open with return-default: instrumented, it returns 0 instead of 1309.
    int forced = Forced.work(x);
    int guarded = Guarded.work(x);
    if (!probe || forced != 0 || guarded != Plain.work(x)) {
      throw new IllegalStateException(
          "the Firebreak agent is not attached or the rules did not apply (Probe on boot class path: "
              + probe
              + ", Forced.work("
              + x
              + ") = "
              + forced
              + ", expected 0; Guarded.work = "
              + guarded
              + "). Build the agent and run from the repository root (working dir: "
              + System.getProperty("user.dir")
              + "), or pass -jvmArgsAppend with absolute paths.");
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

  @Benchmark
  public int firebreak() {
    return Guarded.work(x);
  }

  @Benchmark
  public int firebreakOpen() {
    return Forced.work(x);
  }

  @Benchmark
  public int unmatched() {
    return Unguarded.work(x);
  }
}
