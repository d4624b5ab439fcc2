package dev.firebreak.agent;

import dev.firebreak.rules.Glob;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The prescan's key finding as it was written with regular expressions (until 2026-12-03), kept as
 * the oracle of {@link RulesPrescanOracleTest}: the plain text scan that replaced it must find the
 * same keys, values and words in every file. What did not change (the text without comments, a
 * value's reading, the labels check) it shares with {@link RulesPrescan}.
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
      String text = RulesPrescan.readable(yaml);
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
      return values == null ? null : RulesPrescan.globs(values, false);
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
      String text = RulesPrescan.readable(yaml);
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
          || RulesPrescan.methodUnderLabels(text)) {
        return null;
      }
      return RulesPrescan.globs(values, true);
    } catch (RuntimeException e) {
      return null;
    }
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
      String value = RulesPrescan.value(text, m.end(), column);
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
}
