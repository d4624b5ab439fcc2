package dev.firebreak.instrument;

import static dev.firebreak.instrument.TestRules.depth;
import static dev.firebreak.instrument.TestRules.rules;
import static dev.firebreak.instrument.TestRules.target;
import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.instrument.ClassGate.Verdict;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.RuleSet;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The class gate's decisions, at explicit times: no class is loaded, nothing sleeps. */
class ClassGateTest {
  private static final ClassLoader APP = ClassGateTest.class.getClassLoader();
  private static final long T0 = 1_000_000_000L;
  private static final RuleSet RULES =
      rules(
          Mode.ENFORCE,
          target(
              "render",
              "com.acme.Renderer",
              "*",
              new Fallback.Throw(),
              depth("d", 8, Action.LIMIT)));
  private static final ClassFileTransformer ADVICE =
      new ClassFileTransformer() {
        @Override
        public byte[] transform(
            ClassLoader l, String n, Class<?> c, ProtectionDomain pd, byte[] b) {
          return b;
        }
      };

  private final ClassGate watched = new ClassGate(new ClassFilter(), true);
  private final ClassGate lazy = new ClassGate(new ClassFilter(), false);

  @Test
  void beforeTheRulesAreReadAnApplicationClassWaitsAndTheJdksPass() {
    assertThat(watched.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.WAIT);
    assertThat(watched.verdict(null, "java.util.HashMap", T0, T0)).isEqualTo(Verdict.PASS);
    assertThat(watched.verdict(APP, "javax.sql.DataSource", T0, T0)).isEqualTo(Verdict.PASS);
    assertThat(watched.verdict(APP, "dev.firebreak.shaded.X", T0, T0)).isEqualTo(Verdict.PASS);
    // startup=lazy holds nothing back
    assertThat(lazy.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.PASS);
  }

  @Test
  void withTheGlobsPremainFoundOnlyAClassTheyMayMatchWaitsForTheRules() {
    watched.expect(List.of(Glob.forClass("com.acme.Renderer")));
    assertThat(watched.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.PASS);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.WAIT);
    watched.rulesKnown(RULES);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.WAIT);
  }

  @Test
  void onceTheRulesAreReadOnlyAClassTheyMayMatchWaitsForTheInstrumentation() {
    watched.rulesKnown(RULES);
    assertThat(watched.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.PASS);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.WAIT);
    watched.ready(ADVICE);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.TRANSFORM);
    assertThat(watched.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.PASS);
  }

  @Test
  void lazyPassesUntilTheInstrumentationIsReadyThenTransforms() {
    lazy.rulesKnown(RULES);
    assertThat(lazy.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.PASS);
    lazy.ready(ADVICE);
    assertThat(lazy.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.TRANSFORM);
  }

  @Test
  void aClassWaitsAtMostTheLimitThenLoadsUnwatched() {
    long justBefore = T0 + ClassGate.MAX_WAIT_NANOS - 1;
    long atTheLimit = T0 + ClassGate.MAX_WAIT_NANOS;
    assertThat(watched.verdict(APP, "com.acme.Main", T0, justBefore)).isEqualTo(Verdict.WAIT);
    assertThat(watched.verdict(APP, "com.acme.Main", T0, atTheLimit)).isEqualTo(Verdict.TIMED_OUT);
    watched.rulesKnown(RULES);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, justBefore)).isEqualTo(Verdict.WAIT);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, atTheLimit))
        .isEqualTo(Verdict.TIMED_OUT);
  }

  @Test
  void whenTheInstrumentationFailsOrNoRulesCouldBeReadNothingWaits() {
    watched.rulesKnown(null);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.PASS);
    ClassGate failing = new ClassGate(new ClassFilter(), true);
    failing.rulesKnown(RULES);
    failing.failed();
    assertThat(failing.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.PASS);
    ClassGate failedEarly = new ClassGate(new ClassFilter(), true);
    failedEarly.failed();
    assertThat(failedEarly.verdict(APP, "com.acme.Main", T0, T0)).isEqualTo(Verdict.PASS);
  }

  @Test
  void aNewRuleSetReplacesTheOldGlobs() {
    watched.rulesKnown(RULES);
    watched.ready(ADVICE);
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.TRANSFORM);
    watched.rules(
        rules(
            Mode.ENFORCE,
            target(
                "other",
                "com.acme.Other",
                "*",
                new Fallback.Throw(),
                depth("d", 8, Action.LIMIT))));
    assertThat(watched.verdict(APP, "com.acme.Renderer", T0, T0)).isEqualTo(Verdict.PASS);
    assertThat(watched.verdict(APP, "com.acme.Other", T0, T0)).isEqualTo(Verdict.TRANSFORM);
  }

  @Test
  void theFirstLookAtAClassFollowsAReload() throws Exception {
    byte[] bytes = new byte[] {42};
    watched.rulesKnown(RULES);
    watched.ready(ADVICE);
    assertThat(watched.transform(APP, "com/acme/Renderer", null, null, bytes)).isSameAs(bytes);
    assertThat(watched.transform(APP, "com/acme/Other", null, null, bytes)).isNull();
    watched.rules(
        rules(
            Mode.ENFORCE,
            target(
                "other", "com.acme.Oth*", "*", new Fallback.Throw(), depth("d", 8, Action.LIMIT))));
    assertThat(watched.transform(APP, "com/acme/Other", null, null, bytes)).isSameAs(bytes);
    assertThat(watched.transform(APP, "com/acme/Renderer", null, null, bytes)).isNull();
    watched.failed();
    assertThat(watched.transform(APP, "com/acme/Other", null, null, bytes)).isNull();
    assertThat(watched.matchedClasses()).isEqualTo(5);
  }
}
