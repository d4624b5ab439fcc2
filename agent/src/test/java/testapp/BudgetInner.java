package testapp;

public class BudgetInner {
  /** 1 per call; 0 when short-circuited (fallback return-default). */
  public int tick(int i) {
    return 1;
  }
}
