package testapp;

/** Two runaways in code no rule names: a self recursion and a mutual one. */
public final class Spiral {
  public String expand(String s, int depth) {
    return expand(s + depth % 10, depth + 1);
  }

  public int ping(int n) {
    return pong(n + 1) + 1;
  }

  public int pong(int n) {
    return ping(n + 1) + 1;
  }
}
