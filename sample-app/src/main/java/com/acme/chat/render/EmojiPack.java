package com.acme.chat.render;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * An emoji pack: shortcodes that map to an emoji, and aliases that map a shortcode to another
 * shortcode ({@code happy -> smile}). Packs are YAML (or JSON) documents:
 *
 * <pre>
 * name: default
 * version: 2024.11.0
 * max-alias-depth: 8          # how many alias hops the renderer follows; -1 = unlimited
 * alias-resolution: recursive # recursive (re-expand the text) | iterative (follow the chain in a loop)
 * emojis: {smile: "😄", tada: "🎉"}
 * aliases: {happy: smile, party: tada}
 * </pre>
 */
public final class EmojiPack {
  /** How the renderer follows alias chains. */
  public enum Resolution {
    RECURSIVE,
    ITERATIVE
  }

  private final String name;
  private final String version;
  private final int maxAliasDepth;
  private final Resolution resolution;
  private final Map<String, String> emojis;
  private final Map<String, String> aliases;

  public EmojiPack(
      String name,
      String version,
      int maxAliasDepth,
      Resolution resolution,
      Map<String, String> emojis,
      Map<String, String> aliases) {
    this.name = name;
    this.version = version;
    this.maxAliasDepth = maxAliasDepth;
    this.resolution = resolution;
    this.emojis = Map.copyOf(emojis);
    this.aliases = Map.copyOf(aliases);
  }

  /**
   * What a shortcode (without colons) stands for: the emoji, or for an alias the {@code :target:}
   * shortcode it points at (which the renderer must resolve in turn), or null for an unknown
   * shortcode.
   */
  public String lookup(String shortcode) {
    String emoji = emojis.get(shortcode);
    if (emoji != null) return emoji;
    String target = aliases.get(shortcode);
    return target == null ? null : ':' + target + ':';
  }

  /** True if {@code value} (a result of {@link #lookup}) is itself a shortcode to resolve. */
  public static boolean isShortcode(String value) {
    return value != null
        && value.length() > 2
        && value.charAt(0) == ':'
        && value.charAt(value.length() - 1) == ':';
  }

  public String name() {
    return name;
  }

  public String version() {
    return version;
  }

  public int maxAliasDepth() {
    return maxAliasDepth;
  }

  public Resolution resolution() {
    return resolution;
  }

  public Map<String, String> emojis() {
    return Collections.unmodifiableMap(emojis);
  }

  public Map<String, String> aliases() {
    return Collections.unmodifiableMap(aliases);
  }

  // ---------------------------------------------------------------- loading

  /** Thrown for a pack document that cannot be used. */
  public static final class PackException extends RuntimeException {
    public PackException(String message) {
      super(message);
    }
  }

  /** The packs shipped in the jar under {@code packs/}. */
  public static final List<String> SHIPPED = List.of("default", "bad-update", "bad-update-loop");

  public static EmojiPack shipped(String name) {
    if (!SHIPPED.contains(name)) {
      throw new PackException(
          "no shipped pack named '" + name + "' (shipped: " + String.join(", ", SHIPPED) + ")");
    }
    try (InputStream in = EmojiPack.class.getResourceAsStream("/packs/" + name + ".yaml")) {
      if (in == null)
        throw new PackException("pack resource packs/" + name + ".yaml is missing from the jar");
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new PackException("cannot read pack " + name + ": " + e.getMessage());
    }
  }

  public static EmojiPack parse(String document) {
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(document);
    } catch (RuntimeException e) {
      throw new PackException("pack is not valid YAML/JSON: " + e.getMessage());
    }
    if (!(root instanceof Map))
      throw new PackException("a pack is a mapping with name, emojis and aliases");
    @SuppressWarnings("unchecked")
    Map<Object, Object> m = (Map<Object, Object>) root;
    for (Object k : m.keySet()) {
      if (!List.of(
              "name",
              "version",
              "max-alias-depth",
              "alias-resolution",
              "emojis",
              "aliases",
              "description")
          .contains(String.valueOf(k))) {
        throw new PackException("unknown key '" + k + "' in pack");
      }
    }
    Object name = m.get("name");
    if (!(name instanceof String) || ((String) name).isBlank())
      throw new PackException("pack needs a name");
    Object version = m.get("version");
    Object depth = m.getOrDefault("max-alias-depth", 8);
    if (!(depth instanceof Integer) || (Integer) depth < -1) {
      throw new PackException("max-alias-depth must be an integer >= -1 (-1: unlimited)");
    }
    String res = String.valueOf(m.getOrDefault("alias-resolution", "recursive"));
    Resolution resolution;
    try {
      resolution = Resolution.valueOf(res.toUpperCase());
    } catch (IllegalArgumentException e) {
      throw new PackException("alias-resolution must be recursive or iterative, got '" + res + "'");
    }
    Map<String, String> emojis = stringMap(m.get("emojis"), "emojis", false);
    Map<String, String> aliases = stringMap(m.get("aliases"), "aliases", true);
    for (Map.Entry<String, String> a : aliases.entrySet()) {
      if (!emojis.containsKey(a.getValue()) && !aliases.containsKey(a.getValue())) {
        throw new PackException(
            "alias '" + a.getKey() + "' points at unknown shortcode '" + a.getValue() + "'");
      }
    }
    return new EmojiPack(
        (String) name,
        version == null ? "unversioned" : String.valueOf(version),
        (Integer) depth,
        resolution,
        emojis,
        aliases);
  }

  private static Map<String, String> stringMap(Object o, String what, boolean shortcodeValues) {
    if (o == null) return Map.of();
    if (!(o instanceof Map))
      throw new PackException(what + " must be a mapping of shortcode to value");
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
      String k = String.valueOf(e.getKey());
      if (!k.matches("[a-z0-9_+\\-]+"))
        throw new PackException("bad shortcode '" + k + "' in " + what);
      if (e.getValue() == null)
        throw new PackException("shortcode '" + k + "' in " + what + " has no value");
      String v = String.valueOf(e.getValue());
      if (shortcodeValues && v.startsWith(":") && v.endsWith(":") && v.length() > 2)
        v = v.substring(1, v.length() - 1);
      out.put(k, v);
    }
    return out;
  }

  @Override
  public String toString() {
    return name + "@" + version;
  }
}
