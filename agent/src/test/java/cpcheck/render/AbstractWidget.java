package cpcheck.render;

public abstract class AbstractWidget {
  public abstract String paint(String s);

  protected native int handle();
}
