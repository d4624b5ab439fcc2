package cpcheck.render;

public class FancyCircle extends Circle {
  @Override
  public String draw(String style) {
    return "~" + super.draw(style) + "~";
  }
}
