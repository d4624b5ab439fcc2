package testapp.plugin;

/** Loaded by a URLClassLoader in the child JVM, never by the application class loader. */
public class Plugin {
  public String recurse(String s) {
    return recurse(s + "");
  }

  public String loader() {
    ClassLoader cl = getClass().getClassLoader();
    return cl == null
        ? "bootstrap"
        : cl.getClass().getSimpleName()
            + (cl.getParent() == null ? "(parent=null)" : "(parent=app)");
  }
}
