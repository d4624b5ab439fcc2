package bench.firebreak.targets;

import org.openjdk.jmh.annotations.CompilerControl;

/**
 * Named by no target in the rules file: loaded in the JVM with the agent attached, never
 * instrumented.
 *
 * <p>The agent never instruments classes under {@code dev.firebreak.*}, so the benchmark targets
 * live in this package. The body is the same in every target class ({@code
 * dev.firebreak.benchmarks.Plain} too).
 */
public final class Unguarded {

  private Unguarded() {}

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int work(int x) {
    return x * 31 + 7;
  }
}
