package testapp.inproc;

/** A type hierarchy for {@code subtypes: true}: the rule names the base types only. */
public final class Shapes {
  private Shapes() {}

  public abstract static class Shape {
    public abstract int draw(int n);
  }

  public static class Circle extends Shape {
    @Override
    public int draw(int n) {
      return draw(n + 1) + 1;
    }
  }

  public interface Handler {
    String handle(String s);
  }

  public static class Loud implements Handler {
    @Override
    public String handle(String s) {
      return handle(s + "!");
    }
  }

  /** Not a subtype of anything named: must stay uninstrumented. */
  public static class Bystander {
    public int draw(int n) {
      return n;
    }
  }
}
