package testapp;

/** Mutual recursion across two classes: Ping → Pong → Ping … */
public class Ping {
  public int ping(int n) {
    App.CALLS.increment();
    return new Pong().pong(n + 1) + 1;
  }
}
