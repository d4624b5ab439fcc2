package dev.firebreak.rules;

import java.util.List;

/** Small text helpers for error messages. */
public final class Text {
  private Text() {}

  /** {@code s} in double quotes, escaped so that an error message stays one printable line. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    int n = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (++n > 60) {
        b.append('…');
        break;
      }
      if (cp == '"' || cp == '\\') {
        b.append('\\').appendCodePoint(cp);
      } else if (cp == '\n') {
        b.append("\\n");
      } else if (cp == '\t') {
        b.append("\\t");
      } else if (!printable(cp)) {
        b.append(String.format("\\u%04X", cp));
      } else {
        b.appendCodePoint(cp);
      }
    }
    return b.append('"').toString();
  }

  /** A key or name for messages: like {@link #quote} but in single quotes. */
  static String name(String s) {
    String q = quote(s);
    return "'" + q.substring(1, q.length() - 1).replace("\\\"", "\"") + "'";
  }

  static boolean printable(int cp) {
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    int type = Character.getType(cp);
    return Character.isDefined(cp)
        && type != Character.SURROGATE
        && type != Character.FORMAT
        && type != Character.PRIVATE_USE
        && type != Character.LINE_SEPARATOR
        && type != Character.PARAGRAPH_SEPARATOR;
  }

  /** The closest of {@code candidates} within edit distance 2 of {@code word}, or null. */
  static String suggest(String word, List<String> candidates) {
    String best = null;
    int bestDistance = 3;
    for (String c : candidates) {
      if (Math.abs(c.length() - word.length()) >= bestDistance) {
        continue;
      }
      int d = distance(word, c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  public static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /**
   * A URL as it may be printed: its user-info, query and fragment replaced by {@code redacted},
   * since webhook and Alertmanager URLs often carry a password or a token there. Works on any text,
   * a URL or not, and on text with a URL inside ({@code "webhook https://u:p@h/x?t=1"}).
   */
  public static String redactUrl(String text) {
    if (text == null) {
      return null;
    }
    int scheme = text.indexOf("://");
    int start = scheme < 0 ? 0 : scheme + 3;
    int end = start;
    while (end < text.length() && "/?#".indexOf(text.charAt(end)) < 0) {
      end++;
    }
    int at = text.lastIndexOf('@', end - 1);
    StringBuilder b = new StringBuilder(text.length());
    if (at >= start) {
      b.append(text, 0, start).append("redacted").append(text, at, end);
    } else {
      b.append(text, 0, end);
    }
    int query = text.indexOf('?', end);
    int fragment = text.indexOf('#', end);
    int cut = query < 0 ? fragment : fragment < 0 ? query : Math.min(query, fragment);
    if (cut < 0) {
      return b.append(text, end, text.length()).toString();
    }
    b.append(text, end, cut);
    if (query >= 0 && query == cut) {
      b.append("?redacted");
    }
    if (fragment >= 0) {
      b.append("#redacted");
    }
    return b.toString();
  }

  /** "a, b or c" */
  static String oneOf(List<String> words) {
    if (words.size() == 1) {
      return words.get(0);
    }
    return String.join(", ", words.subList(0, words.size() - 1))
        + " or "
        + words.get(words.size() - 1);
  }
}
