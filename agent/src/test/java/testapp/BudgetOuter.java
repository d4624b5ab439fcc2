package testapp;

/**
 * One call that loops over another target: a loop that never recurses, only a call budget sees it.
 */
public class BudgetOuter {
  public long run(int times) {
    BudgetInner inner = new BudgetInner();
    long sum = 0;
    int i = 0;
    while (i < times) {
      sum += inner.tick(i);
      i++;
    }
    return sum;
  }
}
