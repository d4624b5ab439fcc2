package testapp;

/** One infinitely recursive method per fallback kind and return type. */
public class Fallbacks {
  public String text(String s) {
    return text(s);
  }

  public Integer boxed(int n) {
    return boxed(n);
  }

  public long number(long n) {
    return number(n);
  }

  public boolean flag(boolean b) {
    return flag(b);
  }

  public Object object(String s) {
    return object(s);
  }

  public String thrower(String s) {
    return thrower(s);
  }
}
