package dev.firebreak.rules;

/**
 * Named by a global tag in {@link HostileInputTest}: if the parser ever loaded or instantiated a
 * class from a rules file, this class's static initializer would leave its mark. The test never
 * refers to this class, so nothing else loads it.
 */
public class HostileCanary {
  static {
    System.setProperty("firebreak.hostile.canary", "loaded");
  }

  public HostileCanary() {
    System.setProperty("firebreak.hostile.canary", "instantiated");
  }

  public HostileCanary(String s) {
    this();
  }
}
