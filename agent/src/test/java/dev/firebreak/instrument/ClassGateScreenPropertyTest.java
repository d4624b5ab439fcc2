package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.instrument.ClassGate.Verdict;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.GlobArbitraries;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Position;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The class gate's first look at a class (the names' first letters, before any other work) turns
 * away only classes no rule may match: against what the rules mean, on small alphabets where globs
 * and names collide often, with and without targets that want subtypes.
 */
class ClassGateScreenPropertyTest {
  private static final ClassLoader APP = ClassGateScreenPropertyTest.class.getClassLoader();
  private static final byte[] WOVEN = new byte[] {1};
  private static final ClassFileTransformer ADVICE =
      new ClassFileTransformer() {
        @Override
        public byte[] transform(
            ClassLoader l, String n, Class<?> c, ProtectionDomain pd, byte[] b) {
          return WOVEN;
        }
      };

  @Provide
  Arbitrary<String> classGlobs() {
    return GlobArbitraries.classGlobs();
  }

  @Provide
  Arbitrary<String> names() {
    return GlobArbitraries.names();
  }

  @Property(tries = 2000)
  void theGateTakesExactlyTheClassesTheRulesMayMatch(
      @ForAll @Size(min = 1, max = 3) List<@From("classGlobs") String> globs,
      @ForAll boolean subtypes,
      @ForAll @Size(min = 1, max = 8) List<@From("names") String> names)
      throws Exception {
    for (String g : globs) {
      Assume.that(Glob.problem(g, Glob.Kind.CLASS) == null);
    }
    List<Target> targets = new ArrayList<>();
    for (int i = 0; i < globs.size(); i++) {
      targets.add(target("t" + i, globs.get(i), subtypes && i == 0));
    }
    RuleSet rs = TestRules.rules(Mode.ENFORCE, targets.toArray(new Target[0]));
    ClassGate gate = new ClassGate(new ClassFilter(), true);
    gate.rulesKnown(rs);
    gate.ready(ADVICE);
    for (String name : names) {
      byte[] out = gate.transform(APP, name.replace('.', '/'), null, null, new byte[0]);
      // by the rules' meaning: a glob matches the name, or a target wants subtypes (then the class
      // file is read for its supertypes)
      boolean transform = subtypes;
      for (String g : globs) {
        transform |= Glob.forClass(g).matches(name);
      }
      assertThat(gate.verdict(APP, name, 0, 0) == Verdict.TRANSFORM).isEqualTo(transform);
      assertThat(out == WOVEN)
          .as("%s under %s (subtypes %s)", name, globs, subtypes)
          .isEqualTo(transform);
    }
  }

  @Property(tries = 2000)
  void everyNameAGlobMatchesStartsWithOneOfItsStarts(
      @ForAll @Size(min = 1, max = 3) List<@From("classGlobs") String> texts,
      @ForAll("names") String name) {
    List<Glob> globs = new ArrayList<>();
    for (String t : texts) {
      Assume.that(Glob.problem(t, Glob.Kind.CLASS) == null);
      globs.add(Glob.forClass(t));
    }
    boolean starts =
        ClassFilter.startsWithAny(name.replace('.', '/'), ClassFilter.internalStarts(globs));
    if (ClassGate.anyMatches(globs, name)) {
      assertThat(starts).as("%s under %s", name, texts).isTrue();
    }
  }

  @Property(tries = 500)
  void aFencesClassesAreLookedAtOneByOne(
      @ForAll @Size(min = 1, max = 4) List<@From("names") String> classes,
      @ForAll("names") String other) {
    Glob fence = Glob.anyOf(Glob.Kind.CLASS, classes);
    String[] starts = ClassFilter.internalStarts(List.of(fence));
    // their common prefix may be empty (classes of two packages): the screen still names them
    assertThat(starts).isNotNull();
    for (String c : classes) {
      assertThat(ClassFilter.startsWithAny(c.replace('.', '/'), starts)).isTrue();
    }
    if (fence.matches(other)) {
      assertThat(ClassFilter.startsWithAny(other.replace('.', '/'), starts)).isTrue();
    }
  }

  private static Target target(String name, String glob, boolean subtypes) {
    return new Target(
        name,
        glob,
        "*",
        subtypes,
        null,
        new Fallback.Throw(),
        Target.Force.CLOSED,
        false,
        List.of(TestRules.depth(name + "-d", 8, dev.firebreak.rules.Action.LIMIT)),
        new Position("test.yaml", 1, 1));
  }
}
