package cpcheck.render;

public class Circle implements Shape {
  @Override
  public String draw(String style) {
    return "(" + style + ")";
  }
}
