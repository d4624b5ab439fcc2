package dev.firebreak.agent;

import dev.firebreak.rules.Glob;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The prescan as it was written with regular expressions (until 2026-12-03), kept as the oracle of
 * {@link RulesPrescanOracleTest}: the plain text scan that replaced it must read every file alike.
 */
final class RegexPrescan {
  /** A {@code class} key, plain or quoted, at the start of a line, after '- ', '{' or ','. */
  private static final Pattern CLASS_KEY =
      Pattern.compile("(?m)(?:^[ \\t]*(?:-[ \\t]+)*|[{,][ \\t]*)([\"']?)class\\1[ \\t]*:");

  /**
   * Any mention of the word, however written (an explicit '? class' key, in a comment): each must
   * be one CLASS_KEY found, or the file is not read for sure.
   */
  private static final Pattern CLASS_WORD =
      Pattern.compile("(?<![A-Za-z0-9_$.-])class(?![A-Za-z0-9_$.-])");

  /** A {@code method} key, written as {@link #CLASS_KEY} finds a class key. */
  private static final Pattern METHOD_KEY =
      Pattern.compile("(?m)(?:^[ \\t]*(?:-[ \\t]+)*|[{,][ \\t]*)([\"']?)method\\1[ \\t]*:");

  private static final Pattern METHOD_WORD =
      Pattern.compile("(?<![A-Za-z0-9_$.-])method(?![A-Za-z0-9_$.-])");

  private static final Pattern SUBTYPES =
      Pattern.compile("subtypes[\"']?[ \\t]*:[ \\t]*([^\\s,}#]*)");

  private RegexPrescan() {}

  /** The class globs of {@code yaml}, or null when it cannot tell for sure. */
  static List<Glob> classGlobs(byte[] yaml) {
    try {
      String text = readable(yaml);
      if (text == null) {
        return null;
      }
      Matcher s = SUBTYPES.matcher(text);
      while (s.find()) {
        String v = s.group(1);
        if (!(v.equals("false") || v.equals("False") || v.equals("FALSE"))) {
          return null; // a target wants subtypes: any class may be one
        }
      }
      List<String> values = values(text, CLASS_KEY, CLASS_WORD, "class");
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
      List<String> values = values(text, METHOD_KEY, METHOD_WORD, "method");
      List<String> classes = values(text, CLASS_KEY, CLASS_WORD, "class");
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
  private static String readable(byte[] yaml) {
    String raw = new String(yaml, StandardCharsets.UTF_8).replace("\r\n", "\n");
    if (raw.indexOf('\\') >= 0
        || raw.indexOf('\t') >= 0
        || raw.indexOf('\r') >= 0
        || raw.indexOf('\u0085') >= 0
        || raw.indexOf('\u2028') >= 0
        || raw.indexOf('\u2029') >= 0) {
      return null;
    }
    String text = withoutComments(raw);
    return text.contains("auto-fence") ? null : text;
  }

  /**
   * The values of every {@code key} the pattern finds, or null when one is not plainly written on
   * its line or the word appears anywhere else (an explicit '? key', a flow of its own).
   */
  private static List<String> values(String text, Pattern keyPattern, Pattern word, String key) {
    List<String> values = new ArrayList<>();
    Matcher m = keyPattern.matcher(text);
    while (m.find()) {
      int at = text.lastIndexOf(key, m.end());
      int column = at - (text.lastIndexOf('\n', at) + 1);
      String value = value(text, m.end(), column);
      if (value == null) {
        return null;
      }
      values.add(value);
    }
    int words = 0;
    for (Matcher w = word.matcher(text); w.find(); ) {
      words++;
    }
    return words == values.size() ? values : null;
  }

  /** No lambda: the start thread stays clear of the invokedynamic machinery before the parse. */
  private static List<Glob> globs(List<String> values, boolean methods) {
    List<Glob> out = new ArrayList<>(values.size());
    for (String v : values) {
      out.add(methods ? Glob.forMethod(v) : Glob.forClass(v));
    }
    return out;
  }

  /** Whether the word "method" is in a {@code labels} map (flow on its line, or block below it). */
  private static boolean methodUnderLabels(String text) {
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
  private static String value(String text, int from, int keyColumn) {
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
