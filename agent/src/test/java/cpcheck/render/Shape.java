package cpcheck.render;

public interface Shape {
  String draw(String style);

  default String label() {
    return "shape";
  }
}
