package testapp;

public class Pong {
  public int pong(int n) {
    App.CALLS.increment();
    return new Ping().ping(n + 1) + 1;
  }
}
