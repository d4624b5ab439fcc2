package bench.firebreak.targets;

/** The watched method of the scale harness (target {@code scale}): recurses {@code depth} deep. */
public final class Scale {
  private Scale() {}

  public static int work(int depth) {
    return depth <= 0 ? 1 : work(depth - 1) + 1;
  }
}
