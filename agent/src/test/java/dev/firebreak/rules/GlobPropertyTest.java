package dev.firebreak.rules;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link Glob#matches} (a literal-prefix check first, then the compiled pattern) against a plain
 * recursive reading of the documented glob syntax, on small alphabets where globs and names collide
 * often.
 */
class GlobPropertyTest {

  @Provide
  Arbitrary<String> classGlobs() {
    return GlobArbitraries.classGlobs();
  }

  @Provide
  Arbitrary<String> methodGlobs() {
    return GlobArbitraries.methodGlobs();
  }

  @Provide
  Arbitrary<String> names() {
    return GlobArbitraries.names();
  }

  @Property(tries = 3000)
  void classGlobsMatchWhatTheSyntaxSays(
      @ForAll("classGlobs") String glob, @ForAll("names") String name) {
    Assume.that(Glob.problem(glob, Glob.Kind.CLASS) == null);
    assertThat(Glob.forClass(glob).matches(name))
        .as("%s ~ %s", glob, name)
        .isEqualTo(reference(glob, 0, name, 0, true));
  }

  @Property(tries = 3000)
  void methodGlobsMatchWhatTheSyntaxSays(
      @ForAll("methodGlobs") String glob, @ForAll("names") String name) {
    Assume.that(Glob.problem(glob, Glob.Kind.METHOD) == null);
    assertThat(Glob.forMethod(glob).matches(name))
        .as("%s ~ %s", glob, name)
        .isEqualTo(reference(glob, 0, name, 0, false));
  }

  /**
   * Class globs: * a run inside a segment, ** any run, ? one character but '.'; method globs: * any
   * run, ? any one.
   */
  private static boolean reference(String g, int gi, String n, int ni, boolean classGlob) {
    if (gi == g.length()) {
      return ni == n.length();
    }
    char c = g.charAt(gi);
    if (c == '*') {
      boolean any = !classGlob || (gi + 1 < g.length() && g.charAt(gi + 1) == '*');
      int next = classGlob && any ? gi + 2 : gi + 1;
      for (int k = ni; k <= n.length(); k++) {
        if (reference(g, next, n, k, classGlob)) {
          return true;
        }
        if (k < n.length() && !any && n.charAt(k) == '.') {
          return false;
        }
      }
      return false;
    }
    if (ni == n.length()) {
      return false;
    }
    if (c == '?') {
      return (!classGlob || n.charAt(ni) != '.') && reference(g, gi + 1, n, ni + 1, classGlob);
    }
    return c == n.charAt(ni) && reference(g, gi + 1, n, ni + 1, classGlob);
  }
}
