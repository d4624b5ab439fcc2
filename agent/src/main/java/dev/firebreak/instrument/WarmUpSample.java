package dev.firebreak.instrument;

/**
 * Woven and thrown away by {@link Instrumenter#warmUp}: small, with the shapes the weaver meets
 * (every kind of return, a loop, a try/catch, a switch, a monitor, wide arguments), so that ASM's
 * and the weaver's paths have all run once before an application class needs them.
 */
@SuppressWarnings("unused")
final class WarmUpSample {
  private final Object lock = new Object();
  private int n;

  private WarmUpSample() {}

  void none() {
    n++;
  }

  int loop(int k) {
    int s = 0;
    for (int i = 0; i < k; i++) {
      s += i;
    }
    return s;
  }

  long wide(long a, double b, int c) {
    return a + (long) b + c;
  }

  double caught(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  Object choose(int k) {
    switch (k) {
      case 0:
        return "zero";
      case 1:
        return lock;
      default:
        return null;
    }
  }

  boolean held() {
    synchronized (lock) {
      return n > 0;
    }
  }

  static float half(float f) {
    return f / 2;
  }
}
