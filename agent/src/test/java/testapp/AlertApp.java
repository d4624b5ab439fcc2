package testapp;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * The program of the alerting integration tests. Runs one scenario, prints what it measured, then
 * "READY", and waits for "quit" so the test can read /metrics.
 *
 * <ul>
 *   <li>{@code flood N}: N calls that each fire a depth rule, 1 ms apart; prints the latency of
 *       those calls as seen by the application thread.
 *   <li>{@code spin}: a call that finishes in time, then one that spins for 3 s.
 *   <li>{@code budget N}: one call of BudgetOuter looping N times over BudgetInner.
 * </ul>
 */
public final class AlertApp {
  public static void main(String[] args) throws Exception {
    AgentReady.await();
    switch (args[0]) {
      case "flood":
        flood(Integer.parseInt(args[1]));
        break;
      case "spin":
        Spinner s = new Spinner();
        System.out.println("QUICK " + (s.quick(200) > 0));
        System.out.println("SPUN " + (s.spin(3000) > 0));
        break;
      case "budget":
        System.out.println("SUM " + new BudgetOuter().run(Integer.parseInt(args[1])));
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
    System.out.println("READY");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("quit")) {
      // wait for the test
    }
    System.out.println("BYE");
  }

  private static void flood(int n) {
    Nest nest = new Nest();
    long[] nanos = new long[n];
    for (int i = 0; i < 200; i++) {
      nest.down(0, 12); // warm up, not measured
    }
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      nest.down(0, 12);
      nanos[i] = System.nanoTime() - t0;
      LockSupport.parkNanos(1_000_000);
    }
    Arrays.sort(nanos);
    System.out.printf(
        "LATENCY p50=%d p99=%d max=%d%n",
        nanos[n / 2] / 1000, nanos[(int) (n * 0.99)] / 1000, nanos[n - 1] / 1000);
  }
}
