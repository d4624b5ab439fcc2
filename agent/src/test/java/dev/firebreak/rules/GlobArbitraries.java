package dev.firebreak.rules;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Globs and names on small alphabets, where globs and names collide often: for the properties of
 * {@link Glob} and of the class gate that decides by them.
 */
public final class GlobArbitraries {
  private GlobArbitraries() {}

  /** Class globs of up to 7 pieces (most valid, some not: check with {@link Glob#problem}). */
  public static Arbitrary<String> classGlobs() {
    return Arbitraries.of("a", "b", "ab", ".", "*", "**", "?", "$")
        .list()
        .ofMinSize(1)
        .ofMaxSize(7)
        .map(l -> String.join("", l));
  }

  /** Method globs of up to 6 pieces. */
  public static Arbitrary<String> methodGlobs() {
    return Arbitraries.of("a", "b", "ab", "*", "?")
        .list()
        .ofMinSize(1)
        .ofMaxSize(6)
        .map(l -> String.join("", l));
  }

  /** Names of up to 8 characters of {@code a b . $}. */
  public static Arbitrary<String> names() {
    return Arbitraries.of('a', 'b', '.', '$')
        .list()
        .ofMinSize(1)
        .ofMaxSize(8)
        .map(
            l -> {
              StringBuilder b = new StringBuilder();
              l.forEach(b::append);
              return b.toString();
            });
  }
}
