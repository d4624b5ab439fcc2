package bench.firebreak.outside;

import org.openjdk.jmh.annotations.CompilerControl;

/** Outside the net and every target: the baseline of {@link bench.firebreak.net.Netted}. */
public final class Outside {
  private Outside() {}

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int work(int x) {
    return Math.addExact(x * 31, 7);
  }

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int recurse(int x, int n) {
    return n == 0 ? x : recurse(Math.addExact(x, 1), n - 1);
  }
}
