package cpcheck.render;

public class Renderer {
  public String expand(String text, int depth) {
    return depth <= 0 ? text : expand(text, depth - 1);
  }

  public String expandAll(CharSequence text) {
    return text.toString();
  }

  public int count(String s) {
    return s.length();
  }

  public void reset() {}

  public Long total(long base) {
    return base;
  }

  public static Object helper(Object o) {
    return o;
  }
}
