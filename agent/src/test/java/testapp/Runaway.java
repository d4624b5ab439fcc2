package testapp;

import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runaways in methods no rule names, one per line read from stdin; prints one line per attempt:
 * {@code OVERFLOW} (a StackOverflowError, however wrapped), {@code FALLBACK} (Firebreak's
 * short-circuit, however wrapped) or {@code OK}.
 *
 * <ul>
 *   <li>{@code jackson}: a cyclic object graph serialized by Jackson, its nesting limit off
 *       (Jackson catches the overflow and wraps it);
 *   <li>{@code plugin}: {@code testapp.plugin.Plugin.recurse} in a class loader with a null parent;
 *   <li>{@code expand}, {@code ping}: a self and a mutual recursion in {@link Spiral}.
 * </ul>
 */
public final class Runaway {

  /** A node of the cyclic graph: parent → child → parent → … */
  public static final class Node {
    public String name;
    public List<Node> children = new ArrayList<>();
    public Node parent;

    Node(String name) {
      this.name = name;
    }
  }

  private static Method pluginRecurse;
  private static Object plugin;

  public static void main(String[] args) throws Exception {
    AgentReady.await();
    ObjectMapper mapper = new ObjectMapper();
    mapper
        .getFactory()
        .setStreamWriteConstraints(
            StreamWriteConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build());
    Node root = new Node("root");
    Node child = new Node("child");
    root.children.add(child);
    child.parent = root;
    System.out.println("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] cmd = line.trim().split(" ");
      Object result;
      try {
        switch (cmd[0]) {
          case "jackson":
            result = mapper.writeValueAsString(root).length();
            break;
          case "plugin":
            result = plugin(new File(cmd[1])).invoke(plugin, "x");
            break;
          case "expand":
            result = new Spiral().expand("x", 0);
            break;
          case "ping":
            result = new Spiral().ping(0);
            break;
          case "quit":
            return;
          default:
            System.out.println("UNKNOWN " + line);
            continue;
        }
        System.out.println("OK " + cmd[0] + " " + result);
      } catch (Throwable t) {
        String verdict = verdict(t);
        System.out.println(
            verdict + " " + cmd[0] + (verdict.equals("FALLBACK") ? " " + why(t) : ""));
      }
    }
  }

  private static Method plugin(File dir) throws Exception {
    if (pluginRecurse == null) {
      URLClassLoader isolated = new URLClassLoader(new URL[] {dir.toURI().toURL()}, null);
      Class<?> c = Class.forName("testapp.plugin.Plugin", true, isolated);
      plugin = c.getConstructor().newInstance();
      pluginRecurse = c.getMethod("recurse", String.class);
    }
    return pluginRecurse;
  }

  /** The short-circuit's message. */
  static String why(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c.getClass().getName().equals("dev.firebreak.bootstrap.ShortCircuitException")) {
        return c.getMessage();
      }
    }
    return "";
  }

  /** What ended the attempt, looking through the wrappers. */
  static String verdict(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StackOverflowError) {
        return "OVERFLOW";
      }
      if (c.getClass().getName().equals("dev.firebreak.bootstrap.ShortCircuitException")) {
        return "FALLBACK";
      }
    }
    return "FAILED " + t;
  }
}
