package testapp;

/** Recursion to a fixed depth: under a depth rule with {@code limit}, every call fires it. */
public class Nest {
  public int down(int depth, int to) {
    if (depth >= to) {
      return depth;
    }
    return down(depth + 1, to);
  }
}
