package dev.firebreak.benchmarks;

import bench.firebreak.net.Netted;
import bench.firebreak.outside.Outside;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the auto-fence's net costs while nothing runs away: the same bodies under the net ({@link
 * Netted}, in {@code auto-fence.packages}) and outside it ({@link Outside}), in one forked JVM with
 * the agent and {@code firebreak-bench-net.yaml}. Run from the repository root (see README.md).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-javaagent:" + InstrumentedBenchmark.AGENT_JAR + "=rules=" + NetBenchmark.RULES
    })
@State(Scope.Thread)
public class NetBenchmark {

  /** The rules file, relative to the repository root. */
  public static final String RULES = "benchmarks/src/main/resources/firebreak-bench-net.yaml";

  public int x = 42;

  /** Recursion depth of the {@code recurse} benchmarks. */
  @Param({"10"})
  public int depth;

  /** Fails the run unless the agent runs with the net in force (its depth is 2 x 256). */
  @Setup
  public void checkAgent() throws ReflectiveOperationException {
    int deep;
    try {
      deep =
          Class.forName("dev.firebreak.bootstrap.Net", false, null).getField("deep").getInt(null);
    } catch (ClassNotFoundException e) {
      deep = -1;
    }
    if (deep != 512) {
      throw new IllegalStateException(
          "the Firebreak agent is not attached or its net is not in force (Net.deep = "
              + deep
              + ", expected 512); build the agent and run from the repository root");
    }
  }

  @Benchmark
  public int outside() {
    return Outside.work(x);
  }

  @Benchmark
  public int netted() {
    return Netted.work(x);
  }

  @Benchmark
  public int outsideRecurse() {
    return Outside.recurse(x, depth);
  }

  @Benchmark
  public int nettedRecurse() {
    return Netted.recurse(x, depth);
  }
}
