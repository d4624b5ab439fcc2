package bench.firebreak.net;

import org.openjdk.jmh.annotations.CompilerControl;

/**
 * Under the auto-fence's net in {@code firebreak-bench-net.yaml} ({@code bench.firebreak.net.**}),
 * named by no target. Same bodies as {@link bench.firebreak.outside.Outside}.
 */
public final class Netted {
  private Netted() {}

  /** One call: not a leaf (it invokes), so the net counts it. */
  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int work(int x) {
    return Math.addExact(x * 31, 7);
  }

  /** A recursion {@code n} deep: the net counts every level. */
  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int recurse(int x, int n) {
    return n == 0 ? x : recurse(Math.addExact(x, 1), n - 1);
  }
}
