package testapp.inproc;

import java.util.List;

/**
 * Bytecode shapes the weaver must keep verifiable and correct: wide arguments, returns inside
 * try/finally, a loop back to the first instruction, synchronized bodies, exceptions caught and
 * not, every kind of return value, and runaway recursions returning each kind.
 */
public class Woven {
  public static long wide(long a, double b, int c) {
    long r = a;
    for (int i = 0; i < c; i++) {
      r += (long) b;
    }
    return r;
  }

  public int finallyReturn(StringBuilder log, int n) {
    try {
      if (n > 0) {
        return n * 2;
      }
      log.append("zero");
      return -1;
    } finally {
      log.append("f");
    }
  }

  public synchronized double doubled(double d, int n) {
    while (n-- > 0) {
      d *= 2;
    }
    return d;
  }

  /** Its loop jumps back to the method's first instruction. */
  public static int loopFirst(int n) {
    while (true) {
      if (n <= 0) {
        break;
      }
      n--;
    }
    return n;
  }

  public String thrower(String s) {
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty");
    }
    return s;
  }

  public int catcher(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public boolean flag(boolean b) {
    return !b;
  }

  public char upper(char c) {
    return Character.toUpperCase(c);
  }

  public int[] copy(int[] a) {
    return a.clone();
  }

  public void add(List<String> l) {
    l.add("x");
  }

  public long deepLong(long n) {
    return deepLong(n + 1) + 1;
  }

  public double deepDouble(double d) {
    return deepDouble(d + 1) + 1;
  }

  public boolean deepBool(boolean b) {
    return deepBool(!b);
  }

  public String[] deepArray(String[] a) {
    return deepArray(a);
  }

  public static long deepKeep(int x, long keep) {
    return deepKeep(x + 1, keep + 1);
  }

  public Nested deepNested(Nested n) {
    return deepNested(new Nested());
  }

  /** A nested class: its simple name in the {@code method} label. */
  public static class Nested {}
}
