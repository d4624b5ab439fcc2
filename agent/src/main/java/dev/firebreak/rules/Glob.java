package dev.firebreak.rules;

import java.util.regex.Pattern;

/**
 * A class or method name glob of a target.
 *
 * <p>Class globs: {@code *} any run of characters inside one package segment (no '.'), {@code **}
 * any run of characters across segments, {@code ?} one character inside a segment. Method globs:
 * {@code *} any run of characters, {@code ?} one character. Class names are binary names ({@code
 * com.acme.Outer$Inner}).
 */
public final class Glob {
  public enum Kind {
    CLASS,
    METHOD
  }

  private static final String CLASS_EXAMPLE =
      "expected a class glob like com.acme.*Service or com.acme.**";
  private static final String METHOD_EXAMPLE = "expected a method glob like expand* or *";

  private final Kind kind;
  private final String text;
  private final String regex;
  private final String literalPrefix;

  /** What follows the literal prefix, when it is all one wildcard the name needs no regex for. */
  private final Tail tail;

  /** The names of {@link #anyOf} (more than one), or null. */
  private final java.util.List<String> names;

  /**
   * Compiled on first use: most names are decided by the literal prefix and the tail alone, and
   * java.util.regex costs tens of milliseconds to load cold, on the application's start-up path.
   */
  private volatile Pattern pattern;

  private enum Tail {
    /** the literal prefix is the whole glob */
    NONE,
    /** any run of characters ({@code **} of a class glob, {@code *} of a method glob) */
    ANY,
    /** any run of characters without a '.' ({@code *} of a class glob) */
    SEGMENT,
    /** the regex decides */
    REGEX
  }

  private Glob(Kind kind, String text, String regex, String literalPrefix) {
    this(kind, text, regex, literalPrefix, null);
  }

  private Glob(
      Kind kind, String text, String regex, String literalPrefix, java.util.List<String> names) {
    this.names = names;
    this.kind = kind;
    this.text = text;
    this.regex = regex;
    this.literalPrefix = literalPrefix;
    String rest = text.startsWith(literalPrefix) ? text.substring(literalPrefix.length()) : null;
    if (rest == null) {
      tail = Tail.REGEX; // a list of names: {a,b}
    } else if (rest.isEmpty()) {
      tail = Tail.NONE;
    } else if (kind == Kind.CLASS ? rest.equals("**") : rest.equals("*")) {
      tail = Tail.ANY;
    } else if (kind == Kind.CLASS && rest.equals("*")) {
      tail = Tail.SEGMENT;
    } else {
      tail = Tail.REGEX;
    }
  }

  /**
   * @throws IllegalArgumentException if {@code text} is not a valid class glob, saying why
   */
  public static Glob forClass(String text) {
    validate(text, Kind.CLASS);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
        regex.append(".*");
        i++;
      } else if (c == '*') {
        regex.append("[^.]*");
      } else if (c == '?') {
        regex.append("[^.]");
      } else {
        appendLiteral(regex, c);
      }
    }
    return new Glob(Kind.CLASS, text, regex.toString(), prefix(text));
  }

  /**
   * @throws IllegalArgumentException if {@code text} is not a valid method glob, saying why
   */
  public static Glob forMethod(String text) {
    validate(text, Kind.METHOD);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*') {
        regex.append(".*");
      } else if (c == '?') {
        regex.append('.');
      } else {
        appendLiteral(regex, c);
      }
    }
    return new Glob(Kind.METHOD, text, regex.toString(), prefix(text));
  }

  /**
   * Matches exactly the given names and nothing else: the classes or methods of an automatic target
   * (a fence), which names them one by one. Its text is {@code {a,b}} (or the one name).
   */
  public static Glob anyOf(Kind kind, java.util.Collection<String> names) {
    java.util.List<String> sorted = new java.util.ArrayList<>(new java.util.TreeSet<>(names));
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("no names");
    }
    if (sorted.size() == 1) {
      String n = sorted.get(0);
      return new Glob(kind, n, Pattern.quote(n), n);
    }
    StringBuilder regex = new StringBuilder();
    for (String n : sorted) {
      regex.append(regex.length() == 0 ? "" : "|").append(Pattern.quote(n));
    }
    String first = sorted.get(0);
    String last = sorted.get(sorted.size() - 1);
    int common = 0;
    while (common < Math.min(first.length(), last.length())
        && first.charAt(common) == last.charAt(common)) {
      common++;
    }
    return new Glob(
        kind,
        "{" + String.join(",", sorted) + "}",
        regex.toString(),
        first.substring(0, common),
        java.util.List.copyOf(sorted));
  }

  /** The error message for {@code text}, or null when it is a valid glob of this kind. */
  public static String problem(String text, Kind kind) {
    try {
      validate(text, kind);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static void validate(String text, Kind kind) {
    String expected = kind == Kind.CLASS ? CLASS_EXAMPLE : METHOD_EXAMPLE;
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException(expected + ", found an empty glob");
    }
    String found = ", found " + Text.quote(text);
    if (text.contains("***")) {
      throw new IllegalArgumentException(expected + found + " ('***' is not a wildcard)");
    }
    if (kind == Kind.METHOD && text.contains("**")) {
      throw new IllegalArgumentException(expected + found + " ('**' is for class globs; use '*')");
    }
    boolean segmentStart = true;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == '.') {
        if (kind == Kind.METHOD) {
          throw new IllegalArgumentException(
              expected + found + " ('.' is not allowed in a method name)");
        }
        if (segmentStart) {
          throw new IllegalArgumentException(expected + found + " (empty package segment)");
        }
        segmentStart = true;
        continue;
      }
      if (cp == '*' || cp == '?') {
        segmentStart = false;
        continue;
      }
      boolean ok =
          segmentStart ? Character.isJavaIdentifierStart(cp) : Character.isJavaIdentifierPart(cp);
      if (!ok || Character.isIdentifierIgnorable(cp)) {
        String what =
            Character.isDigit(cp) && segmentStart
                ? "a name cannot start with a digit"
                : Text.name(new String(Character.toChars(cp))) + " is not allowed in a Java name";
        throw new IllegalArgumentException(expected + found + " (" + what + ")");
      }
      segmentStart = false;
    }
    if (segmentStart) {
      throw new IllegalArgumentException(expected + found + " (empty package segment at the end)");
    }
  }

  private static void appendLiteral(StringBuilder regex, char c) {
    // only ASCII punctuation can be a regex metacharacter
    if (c >= 128 || Character.isLetterOrDigit(c) || c == '_') {
      regex.append(c);
    } else {
      regex.append('\\').append(c);
    }
  }

  private static String prefix(String text) {
    int i = 0;
    while (i < text.length() && text.charAt(i) != '*' && text.charAt(i) != '?') {
      i++;
    }
    return text.substring(0, i);
  }

  public Kind kind() {
    return kind;
  }

  public String text() {
    return text;
  }

  public Pattern pattern() {
    Pattern p = pattern;
    if (p == null) {
      p = Pattern.compile(regex);
      pattern = p; // a race compiles it twice: the same pattern
    }
    return p;
  }

  public boolean matches(String name) {
    if (name == null || !name.startsWith(literalPrefix)) {
      // most names fail here, without a Matcher (the name filter sees every class the JVM loads)
      return false;
    }
    switch (tail) {
      case NONE:
        return name.length() == literalPrefix.length();
      case ANY:
        return true;
      case SEGMENT:
        return name.indexOf('.', literalPrefix.length()) < 0;
      default:
        return pattern().matcher(name).matches();
    }
  }

  /** The text before the first wildcard: the whole glob when it is literal. */
  public String literalPrefix() {
    return literalPrefix;
  }

  /**
   * Texts one of which every name this glob matches starts with: its literal prefix, or for {@link
   * #anyOf} its names (their common prefix may be empty).
   */
  public java.util.List<String> starts() {
    return names != null ? names : java.util.List.of(literalPrefix);
  }

  public boolean isLiteral() {
    return literalPrefix.length() == text.length();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Glob g && g.kind == kind && g.text.equals(text);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
