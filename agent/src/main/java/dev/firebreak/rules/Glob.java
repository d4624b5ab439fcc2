package dev.firebreak.rules;

import java.util.regex.Pattern;

/** TEMPORARY stub until the parser lands. */
public final class Glob {
  private final Pattern pattern;
  private final String prefix;

  private Glob(Pattern pattern, String prefix) {
    this.pattern = pattern;
    this.prefix = prefix;
  }

  public static Glob forClass(String glob) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        b.append(".*");
        i++;
      } else if (c == '*') {
        b.append("[^.]*");
      } else {
        b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return new Glob(Pattern.compile(b.toString()), prefix(glob));
  }

  public static Glob forMethod(String glob) {
    StringBuilder b = new StringBuilder();
    for (char c : glob.toCharArray()) {
      b.append(c == '*' ? ".*" : Pattern.quote(String.valueOf(c)));
    }
    return new Glob(Pattern.compile(b.toString()), prefix(glob));
  }

  private static String prefix(String glob) {
    int i = glob.indexOf('*');
    return i < 0 ? glob : glob.substring(0, i);
  }

  public boolean matches(String s) {
    return pattern.matcher(s).matches();
  }

  public String literalPrefix() {
    return prefix;
  }
}
