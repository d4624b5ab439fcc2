package dev.firebreak.agent;

import java.util.List;

/** Lets the jar test read the injector's list of bootstrap classes. */
public final class BootstrapInjectorAccess {
  private BootstrapInjectorAccess() {}

  public static List<String> classes() {
    return BootstrapInjector.CLASSES;
  }
}
