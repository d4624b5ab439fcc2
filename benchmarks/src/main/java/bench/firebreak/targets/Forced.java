package bench.firebreak.targets;

import org.openjdk.jmh.annotations.CompilerControl;

/**
 * Instrumented by the rules file: target {@code bench-forced}, {@code force: open}, {@code
 * fallback: return-default}, so every call is short-circuited and returns 0.
 *
 * <p>The agent never instruments classes under {@code dev.firebreak.*}, so the benchmark targets
 * live in this package. The body is the same in every target class ({@code
 * dev.firebreak.benchmarks.Plain} too).
 */
public final class Forced {

  private Forced() {}

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int work(int x) {
    return x * 31 + 7;
  }
}
