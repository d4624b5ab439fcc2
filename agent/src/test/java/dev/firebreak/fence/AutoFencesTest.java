package dev.firebreak.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Position;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Engine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The auto-fence in process: a reported overflow becomes a fence, and the fence rides along, or
 * goes with, the rule sets put in force after it.
 */
class AutoFencesTest {
  private static final Position POS = new Position("test.yaml", 1, 1);
  private final List<Set<String>> installed = new CopyOnWriteArrayList<>();
  private AutoFences fences;

  private AutoFences fences() {
    fences =
        new AutoFences(new Engine(new AlertDispatcher()), new AlertDispatcher(), installed::add);
    return fences;
  }

  private static RuleSet.AutoFence section(int depth, int max) {
    return new RuleSet.AutoFence(
        List.of("com.acme.**"), depth, Action.LIMIT, new Fallback.ReturnNull(), null, max, POS);
  }

  private static RuleSet rules(RuleSet.AutoFence section, Target... targets) {
    return new RuleSet(
        1,
        "test.yaml",
        "0".repeat(64),
        new RuleSet.MetricsConfig("127.0.0.1", 0),
        new RuleSet.AlertsConfig("off", null, null, Duration.ofSeconds(30), Map.of()),
        RuleSet.ReloadConfig.DEFAULT,
        RuleSet.AdminConfig.DEFAULT,
        new RuleSet.KillSwitchConfig(Duration.ofSeconds(60), 2),
        Mode.ENFORCE,
        List.of(targets),
        section);
  }

  private static Target named(String name, String cls, String method) {
    return new Target(
        name,
        cls,
        method,
        false,
        null,
        new Fallback.Throw(),
        Target.Force.CLOSED,
        false,
        List.of(new Rule("r-" + name, new Rule.Depth(10), Action.LIMIT, null, POS)),
        POS);
  }

  /** A StackOverflowError as the JVM would report it: a cycle over 1000 frames. */
  private static Throwable overflow(String... cycle) {
    List<StackTraceElement> frames = new ArrayList<>();
    while (frames.size() < 1000) {
      for (int i = 0; i < cycle.length; i++) {
        String c = cycle[i];
        frames.add(
            new StackTraceElement(
                c.substring(0, c.indexOf('#')), c.substring(c.indexOf('#') + 1), "X.java", 10 + i));
      }
    }
    StackOverflowError e = new StackOverflowError();
    e.setStackTrace(frames.toArray(new StackTraceElement[0]));
    return e;
  }

  /** Puts {@code rs} in force the way the agent does, and returns what is in force. */
  private RuleSet inForce(RuleSet rs) {
    return fences.effective(rs);
  }

  @Test
  void anOverflowBecomesOneFenceOverTheCycleAndItsClassesAreRetransformed() {
    fences();
    inForce(rules(section(64, 20)));
    fences.overflow(overflow("com.acme.render.EmojiRenderer#expand"));
    await().atMost(Duration.ofSeconds(10)).until(() -> installed.size() == 1);
    assertThat(installed.get(0)).containsExactly("com.acme.render.EmojiRenderer");
    assertThat(fences.fences()).hasSize(1);
    AutoFences.Fence f = fences.fences().get(0);
    assertThat(f.name()).isEqualTo("auto-emojirenderer-expand");
    assertThat(f.members()).containsExactly("com.acme.render.EmojiRenderer#expand");
    assertThat(fences.counts().get(f.name()).sum()).isEqualTo(1);

    RuleSet next = inForce(rules(section(64, 20)));
    Target t = next.target("auto-emojirenderer-expand").orElseThrow();
    assertThat(t.automatic()).isTrue();
    assertThat(t.fallback()).isEqualTo(new Fallback.ReturnNull());
    assertThat(t.rules())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.name()).isEqualTo("auto-fence");
              assertThat(r.condition()).isEqualTo(new Rule.Depth(64));
            });

    // the same runaway again (its frames in the old code): no second fence
    fences.overflow(overflow("com.acme.render.EmojiRenderer#expand"));
    fences.overflow(overflow("com.other.Outside#loop"));
    await().atMost(Duration.ofSeconds(10)).until(() -> fences.looked() == 3);
    assertThat(installed).hasSize(1);
  }

  @Test
  void fencesSurviveReloadsTakeTheNewSectionAndGoWhenTheFileNamesTheirMethods() throws Exception {
    fences();
    inForce(rules(section(64, 20)));
    fences.overflow(
        overflow("com.acme.a.Ping#ping", "com.acme.b.Pong#pong", "java.util.List#forEach"));
    await().atMost(Duration.ofSeconds(10)).until(() -> installed.size() == 1);
    assertThat(installed.get(0)).containsExactlyInAnyOrder("com.acme.a.Ping", "com.acme.b.Pong");
    AutoFences.Fence f = fences.fences().get(0);
    assertThat(f.members())
        .containsExactlyInAnyOrder("com.acme.a.Ping#ping", "com.acme.b.Pong#pong");

    // a reload with another depth: the fence stays and takes it
    RuleSet reloaded = inForce(rules(section(32, 20), named("other", "com.acme.Other", "run")));
    assertThat(reloaded.target(f.name()).orElseThrow().rules().get(0).condition())
        .isEqualTo(new Rule.Depth(32));

    // the snippet is a valid rules file whose targets name exactly the fence's methods
    String snippet = AutoFences.Snippet.block(f, section(64, 20));
    RuleSet parsed =
        RulesParser.parse(
            "snippet.yaml", ("version: 1\n" + snippet).getBytes(StandardCharsets.UTF_8));
    assertThat(parsed.targets()).hasSize(2);
    RuleSet named = inForce(rules(section(64, 20), parsed.targets().toArray(new Target[0])));
    assertThat(named.targets()).noneMatch(Target::automatic);
    assertThat(fences.fences()).isEmpty();
  }

  @Test
  void withoutTheSectionEveryFenceGoes() {
    fences();
    inForce(rules(section(64, 20)));
    fences.overflow(overflow("com.acme.X#x"));
    await().atMost(Duration.ofSeconds(10)).until(() -> installed.size() == 1);
    RuleSet next = inForce(rules(null, named("t", "com.acme.Y", "y")));
    assertThat(next.targets()).extracting(Target::name).containsExactly("t");
    assertThat(fences.fences()).isEmpty();
  }

  @Test
  void maxFencesHoldsAndAFileTargetOfTheSameNameTakesPrecedence() {
    fences();
    inForce(rules(section(64, 1)));
    fences.overflow(overflow("com.acme.X#x"));
    await().atMost(Duration.ofSeconds(10)).until(() -> installed.size() == 1);
    fences.overflow(overflow("com.acme.Y#y"));
    await().atMost(Duration.ofSeconds(10)).until(() -> fences.looked() == 2);
    assertThat(installed).hasSize(1);
    assertThat(fences.fences()).extracting(AutoFences.Fence::name).containsExactly("auto-x-x");

    RuleSet next = inForce(rules(section(64, 1), named("auto-x-x", "com.acme.Z", "z")));
    assertThat(next.targets()).extracting(Target::name).containsExactly("auto-x-x");
    assertThat(next.targets().get(0).automatic()).isFalse();
  }

  @Test
  void aNameTakenInTheRulesGetsASuffix() {
    RuleSet rs = rules(section(64, 20), named("auto-emojirenderer-expand", "com.acme.A", "a"));
    assertThat(AutoFences.uniqueName("com.acme.render.EmojiRenderer#expand", rs))
        .isEqualTo("auto-emojirenderer-expand-2");
    assertThat(AutoFences.uniqueName("com.acme.Outer$Inner#run$1", rs))
        .isEqualTo("auto-outer-inner-run-1");
  }
}
