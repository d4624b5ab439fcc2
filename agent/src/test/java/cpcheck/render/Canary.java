package cpcheck.render;

/** Proves that {@code validate --classpath} reads class files and never loads or runs them. */
public class Canary {
  static {
    System.setProperty("cpcheck.canary", "loaded");
  }

  public String sing(String s) {
    return s;
  }
}
