package testapp.inproc;

/** A loop that never recurses: only a call budget sees it. */
public class Looper {
  public static int bodies;

  public long outer(int n) {
    long sum = 0;
    for (int i = 0; i < n; i++) {
      sum += inner(i);
    }
    return sum;
  }

  public int inner(int i) {
    bodies++;
    return 1;
  }
}
