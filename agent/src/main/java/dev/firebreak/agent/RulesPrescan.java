package dev.firebreak.agent;

import dev.firebreak.rules.Glob;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The class globs of a rules file, found by a plain text scan first thing on the agent's start
 * thread (a few milliseconds, and no regular expression: the application's main class waits for
 * this look, and java.util.regex costs tens of milliseconds to load and run cold), so that while it
 * then parses the file properly (SnakeYAML: a few hundred milliseconds), only a class one of them
 * may match has to wait. Must never miss a glob the parser will find: whatever it cannot read with
 * certainty (a value on the next line, an alias, a tag, a backslash escape anywhere, a key that is
 * not written plainly, {@code subtypes} set to anything but false) makes it give up (null), and
 * then every application class waits for the rules. Finding a glob the parser will not (a file that
 * fails validation, a commented line read as a key) only makes a class wait that need not. The
 * agent's thread parses the very bytes read here, so the two cannot see different files.
 */
final class RulesPrescan {
  private RulesPrescan() {}

  /** The class globs of {@code yaml}, or null when it cannot tell for sure. */
  static List<Glob> classGlobs(byte[] yaml) {
    try {
      String text = readable(yaml);
      if (text == null) {
        return null;
      }
      for (String v : subtypesValues(text)) {
        if (!(v.equals("false") || v.equals("False") || v.equals("FALSE"))) {
          return null; // a target wants subtypes: any class may be one
        }
      }
      List<String> values = values(text, "class");
      return values == null ? null : globs(values, false);
    } catch (RuntimeException e) {
      return null; // not a glob after all: let the parser say what is wrong
    }
  }

  /**
   * The method globs of {@code yaml}, or null when it cannot tell for sure, or when a target names
   * no method (then it watches them all). Like {@link #classGlobs}, it must never miss one the
   * parser will find.
   */
  static List<Glob> methodGlobs(byte[] yaml) {
    try {
      String text = readable(yaml);
      if (text == null) {
        return null;
      }
      List<String> values = values(text, "method");
      List<String> classes = values(text, "class");
      // one method key per class key, none elsewhere (a user's label named "method" could stand
      // in for a target's missing one, which watches every method): else no method is left out
      if (values == null
          || classes == null
          || values.size() != classes.size()
          || methodUnderLabels(text)) {
        return null;
      }
      return globs(values, true);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * The file's text without comments, or null when the prescan cannot read it for sure (escapes,
   * tabs) or it has an auto-fence section (the net's packages are no class keys: every class waits
   * for the parse).
   */
  static String readable(byte[] yaml) {
    // line ends as YAML reads them: CRLF is one; a lone CR, NEL or a separator is not read here
    String raw = new String(yaml, StandardCharsets.UTF_8).replace("\r\n", "\n");
    if (raw.indexOf('\\') >= 0
        || raw.indexOf('\t') >= 0
        || raw.indexOf('\r') >= 0
        || raw.indexOf('\u0085') >= 0
        || raw.indexOf('\u2028') >= 0
        || raw.indexOf('\u2029') >= 0) {
      return null; // escapes, tabs, other line ends: not read for sure
    }
    String text = withoutComments(raw);
    return text.contains("auto-fence") ? null : text;
  }

  /**
   * The values of every {@code key} key ({@link #keyEnd}), or null when one is not plainly written
   * on its line or the word appears anywhere else (an explicit '? key', a flow of its own, a
   * comment kept because of a quote): each mention of the word ({@link #isWord}) must be a key.
   */
  private static List<String> values(String text, String key) {
    List<String> values = new ArrayList<>();
    int words = 0;
    for (int at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
      if (!isWord(text, at, key.length())) {
        continue;
      }
      words++;
      int end = keyEnd(text, at, key.length());
      if (end < 0) {
        continue;
      }
      int column = at - (text.lastIndexOf('\n', at) + 1);
      String value = value(text, end, column);
      if (value == null) {
        return null;
      }
      values.add(value);
    }
    return words == values.size() ? values : null;
  }

  /** A name character: a mention of a key's word has none right before or after it. */
  private static boolean nameChar(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '$'
        || c == '.'
        || c == '-';
  }

  /** Whether the {@code length} characters at {@code at} stand alone, not inside a longer name. */
  private static boolean isWord(String text, int at, int length) {
    int after = at + length;
    return (at == 0 || !nameChar(text.charAt(at - 1)))
        && (after >= text.length() || !nameChar(text.charAt(after)));
  }

  /**
   * Where the value of the key written at {@code at} starts (just past its colon), or -1 when the
   * word there is not a key written plainly: plain or quoted ({@code "class"}, {@code 'class'}),
   * then blanks and a colon; before it a line start with blanks and list dashes ({@code - - }), or
   * a '{' or ',' and blanks.
   */
  private static int keyEnd(String text, int at, int length) {
    int end = at + length;
    if (at > 0) {
      char q = text.charAt(at - 1);
      if ((q == '"' || q == '\'') && end < text.length() && text.charAt(end) == q) {
        int colon = colonAfter(text, end + 1);
        if (colon >= 0 && keyStartsHere(text, at - 1)) {
          return colon + 1;
        }
      }
    }
    int colon = colonAfter(text, end);
    return colon >= 0 && keyStartsHere(text, at) ? colon + 1 : -1;
  }

  /** The index of a ':' after blanks from {@code from}, or -1. */
  private static int colonAfter(String text, int from) {
    int i = from;
    while (i < text.length() && text.charAt(i) == ' ') {
      i++;
    }
    return i < text.length() && text.charAt(i) == ':' ? i : -1;
  }

  /**
   * Whether a key may start at {@code start}: after a line start, blanks and list dashes each
   * followed by a blank, or after a '{' or ',' and blanks.
   */
  private static boolean keyStartsHere(String text, int start) {
    int i = start - 1;
    int j = i;
    while (j >= 0 && text.charAt(j) == ' ') {
      j--;
    }
    if (j >= 0 && (text.charAt(j) == '{' || text.charAt(j) == ',')) {
      return true;
    }
    while (true) {
      if (j < 0 || text.charAt(j) == '\n') {
        return true;
      }
      if (text.charAt(j) != '-' || j == i) {
        return false; // a dash must have a blank after it
      }
      i = j - 1;
      j = i;
      while (j >= 0 && text.charAt(j) == ' ') {
        j--;
      }
    }
  }

  /**
   * The value after each {@code subtypes} key (possibly quoted), as far as a blank, ',', '}' or
   * '#'.
   */
  private static List<String> subtypesValues(String text) {
    List<String> values = new ArrayList<>();
    String key = "subtypes";
    for (int at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
      int i = at + key.length();
      if (i < text.length() && (text.charAt(i) == '"' || text.charAt(i) == '\'')) {
        i++;
      }
      int colon = colonAfter(text, i);
      if (colon < 0) {
        continue;
      }
      int from = colon + 1;
      while (from < text.length() && text.charAt(from) == ' ') {
        from++;
      }
      int to = from;
      while (to < text.length() && " \n\u000B\f,}#".indexOf(text.charAt(to)) < 0) {
        to++;
      }
      values.add(text.substring(from, to));
    }
    return values;
  }

  /** No lambda: the start thread stays clear of the invokedynamic machinery before the parse. */
  static List<Glob> globs(List<String> values, boolean methods) {
    List<Glob> out = new ArrayList<>(values.size());
    for (String v : values) {
      out.add(methods ? Glob.forMethod(v) : Glob.forClass(v));
    }
    return out;
  }

  /** Whether the word "method" is in a {@code labels} map (flow on its line, or block below it). */
  static boolean methodUnderLabels(String text) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int at = lines[i].indexOf("labels");
      if (at < 0) {
        continue;
      }
      if (lines[i].indexOf("method", at) >= 0) {
        return true;
      }
      int indent = indentOf(lines[i]);
      for (int j = i + 1; j < lines.length; j++) {
        if (lines[j].isBlank()) {
          continue;
        }
        if (indentOf(lines[j]) <= indent) {
          break;
        }
        if (lines[j].contains("method")) {
          return true;
        }
      }
    }
    return false;
  }

  private static int indentOf(String line) {
    int n = 0;
    while (n < line.length() && (line.charAt(n) == ' ' || line.charAt(n) == '-')) {
      n++;
    }
    return n;
  }

  /**
   * The text without its comments: from a '#' at the start of a line or after a space, on a line
   * with no quote before it (in a quoted scalar a '#' is no comment: such a line is kept whole, and
   * a word in it is counted).
   */
  private static String withoutComments(String text) {
    StringBuilder b = new StringBuilder(text.length());
    for (String line : text.split("\n", -1)) {
      int cut = -1;
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        if (c == '"' || c == '\'') {
          break;
        }
        if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ')) {
          cut = i;
          break;
        }
      }
      b.append(cut < 0 ? line : line.substring(0, cut)).append('\n');
    }
    return b.toString();
  }

  /** The scalar after a key's colon, when it is written on the same line, plainly or quoted. */
  static String value(String text, int from, int keyColumn) {
    int i = from;
    while (i < text.length() && text.charAt(i) == ' ') {
      i++;
    }
    if (i == from || i >= text.length()) {
      return null;
    }
    char first = text.charAt(i);
    if (first == '"' || first == '\'') {
      int end = text.indexOf(first, i + 1);
      int eol = text.indexOf('\n', i);
      if (end < 0 || (eol >= 0 && eol < end)) {
        return null;
      }
      if (first == '\'' && end + 1 < text.length() && text.charAt(end + 1) == '\'') {
        return null; // '' inside a single-quoted scalar
      }
      return text.substring(i + 1, end);
    }
    if ("*&!|>%@`#[{\r\n".indexOf(first) >= 0) {
      return null; // an alias, an anchor, a tag, a block scalar, a collection, no value here
    }
    int end = i;
    while (end < text.length()) {
      char c = text.charAt(end);
      if (c == '\n' || c == '\r' || c == ',' || c == '}' || c == ']') {
        break;
      }
      if (c == '#' && text.charAt(end - 1) == ' ') {
        break;
      }
      end++;
    }
    String v = text.substring(i, end).trim();
    if (v.contains(": ")) {
      return null;
    }
    // a plain scalar goes on on the next non-blank line indented more than its key: then the
    // value is not this line alone
    int j = end;
    while (j < text.length()) {
      int eol = text.indexOf('\n', j);
      if (eol < 0) {
        break;
      }
      int k = eol + 1;
      int indent = 0;
      while (k < text.length() && text.charAt(k) == ' ') {
        k++;
        indent++;
      }
      if (k >= text.length()) {
        break;
      }
      char c = text.charAt(k);
      if (c == '\n' || c == '\r') {
        j = k; // a blank line: look at the next
        continue;
      }
      if (indent > keyColumn && c != '#') {
        return null;
      }
      break;
    }
    return v;
  }
}
