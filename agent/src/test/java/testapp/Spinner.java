package testapp;

/** Busy loops that never recurse: what the {@code duration} watchdog is for. */
public class Spinner {
  public long spin(long millis) {
    long end = System.nanoTime() + millis * 1_000_000L;
    long turns = 0;
    while (System.nanoTime() < end) {
      turns++;
    }
    return turns;
  }

  public long quick(long millis) {
    long end = System.nanoTime() + millis * 1_000_000L;
    long turns = 0;
    while (System.nanoTime() < end) {
      turns++;
    }
    return turns;
  }
}
