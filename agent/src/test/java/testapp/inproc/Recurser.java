package testapp.inproc;

/** Runaway recursion, as instrumented in-process. */
public class Recurser {
  public String expand(String text, int depth) {
    return expand(text + "", depth + 1);
  }

  public int count(int n) {
    return count(n + 1) + 1;
  }

  public void touch(StringBuilder sb) {
    sb.append('x');
    touch(sb);
  }

  public String boom(String s) {
    throw new IllegalStateException("boom " + s);
  }
}
