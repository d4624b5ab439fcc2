package testapp;

/**
 * Every call site counts the call first, so CALLS is the exact number of calls made. A renderer
 * whose alias resolution never ends: the outage in miniature.
 */
public class Emoji {
  public String expand(String text, int depth) {
    if (App.bad) {
      App.CALLS.increment();
      return expand(text.replace(":a:", ":b:").replace(":b:", ":a:"), depth + 1);
    }
    if (depth < 3) {
      App.CALLS.increment();
      return expand(text, depth + 1);
    }
    return text.replace(":a:", "A");
  }
}
