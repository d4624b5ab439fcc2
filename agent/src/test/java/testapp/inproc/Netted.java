package testapp.inproc;

/** Under the auto-fence's net in NetDepthTest: a runaway, and a recursion that throws at depth. */
public class Netted {
  public int forever(int n) {
    return forever(n + 1) + 1;
  }

  public int throwAt(int n, int at) {
    if (n == at) {
      throw new IllegalStateException("at " + n);
    }
    return throwAt(n + 1, at) + 1;
  }

  public int down(int n) {
    return n == 0 ? 0 : down(n - 1) + 1;
  }
}
