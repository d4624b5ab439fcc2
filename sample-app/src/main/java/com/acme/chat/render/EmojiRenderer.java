package com.acme.chat.render;

import java.util.Objects;

/**
 * Expands {@code :shortcode:}s in message text through the live emoji pack.
 *
 * <p>Aliases ({@code :happy:} -> {@code :smile:}) are resolved the way the pack says: by default
 * ({@code alias-resolution: recursive}) one pass substitutes every known shortcode, and if a
 * substitution produced another shortcode the whole text is expanded again one level deeper, until
 * nothing is left to resolve or the pack's {@code max-alias-depth} is reached ({@code -1}: no limit
 * — trusting the pack to have no cycles). With {@code alias-resolution: iterative} each shortcode's
 * alias chain is followed in a loop, one {@link EmojiPack#lookup} per hop, bounded by the same
 * setting.
 *
 * <p>The pack can be swapped at runtime ({@link #deploy}); calls in flight finish with the pack
 * they read.
 */
public class EmojiRenderer {
  private volatile EmojiPack pack;

  public EmojiRenderer(EmojiPack pack) {
    this.pack = Objects.requireNonNull(pack);
  }

  public EmojiPack pack() {
    return pack;
  }

  /** Makes {@code next} the live pack and returns the previous one. */
  public EmojiPack deploy(EmojiPack next) {
    EmojiPack previous = pack;
    pack = Objects.requireNonNull(next);
    return previous;
  }

  /** Renders message text: expands its shortcodes starting at depth 0. */
  public String render(String text) {
    return expand(text, 0);
  }

  /**
   * Expands the shortcodes in {@code text}; {@code depth} is how many alias levels above this call
   * have already been expanded.
   */
  public String expand(String text, int depth) {
    EmojiPack p = pack;
    int max = p.maxAliasDepth();
    StringBuilder out = null;
    boolean aliasLeft = false;
    int from = 0;
    int i = 0;
    int n = text.length();
    while (i < n) {
      int open = text.indexOf(':', i);
      if (open < 0) break;
      int close = text.indexOf(':', open + 1);
      if (close < 0) break;
      if (!isShortcodeName(text, open + 1, close)) {
        i = close; // this colon may open the next shortcode
        continue;
      }
      String value =
          p.resolution() == EmojiPack.Resolution.ITERATIVE
              ? followChain(p, text.substring(open + 1, close), max)
              : p.lookup(text.substring(open + 1, close));
      if (value == null) {
        i = close;
        continue;
      }
      if (out == null) out = new StringBuilder(n + 16);
      out.append(text, from, open).append(value);
      if (EmojiPack.isShortcode(value)) aliasLeft = true;
      from = close + 1;
      i = from;
    }
    if (out == null) return text;
    out.append(text, from, n);
    String once = out.toString();
    if (!aliasLeft || p.resolution() == EmojiPack.Resolution.ITERATIVE) return once;
    if (max >= 0 && depth >= max) return once; // leave what is left unresolved
    return expand(once, depth + 1);
  }

  /** Iterative alias resolution: one lookup per hop of the chain. */
  private static String followChain(EmojiPack p, String shortcode, int max) {
    String value = p.lookup(shortcode);
    int hops = 0;
    while (EmojiPack.isShortcode(value)) {
      if (max >= 0 && hops >= max) break;
      String next = p.lookup(value.substring(1, value.length() - 1));
      if (next == null) break; // dangling alias: leave the shortcode as it is
      value = next;
      hops++;
    }
    return value;
  }

  private static boolean isShortcodeName(String s, int from, int to) {
    if (to <= from || to - from > 64) return false;
    for (int k = from; k < to; k++) {
      char c = s.charAt(k);
      boolean ok =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
      if (!ok) return false;
    }
    return true;
  }
}
