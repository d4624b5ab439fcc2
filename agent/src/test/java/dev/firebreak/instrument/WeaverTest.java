package dev.firebreak.instrument;

import static dev.firebreak.instrument.TestRules.POS;
import static dev.firebreak.instrument.TestRules.depth;
import static dev.firebreak.instrument.TestRules.rules;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.MethodInfo;
import dev.firebreak.runtime.Monitor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import testapp.inproc.Woven;

/**
 * Layer 2: the weaver on bytecode shapes that break a naive one (wide arguments, returns inside
 * try/finally, a loop back to the first instruction, synchronized bodies, exceptions), each method
 * woven in this JVM and run: the results are those of the plain methods, the calls are counted, and
 * short-circuits return each kind of value.
 */
class WeaverTest {
  private static final String WOVEN = "testapp.inproc.Woven";

  private final Engine engine = new Engine(new AlertDispatcher());
  private final Monitor monitor = new Monitor(engine);
  private final InProcessAgent agent = new InProcessAgent(engine);

  @AfterEach
  void tearDown() {
    agent.close();
  }

  private void install(RuleSet rs) {
    engine.apply(rs);
    agent.install(rs);
  }

  private static Target target(String name, String method, Fallback fallback, int depth) {
    return new Target(
        name,
        WOVEN,
        method,
        false,
        null,
        fallback,
        Target.Force.CLOSED,
        false,
        false,
        true,
        List.of(depth(name + "-depth", depth, Action.LIMIT)),
        POS,
        List.of());
  }

  private long calls(String method, String descriptor) {
    MethodInfo m = engine.methods().find(WOVEN, method, descriptor);
    assertThat(m).as(method + descriptor + " is woven").isNotNull();
    return monitor.calls(m.id());
  }

  @Test
  void everyShapeRunsAsBeforeAndIsCounted() {
    install(rules(Mode.ENFORCE, target("all", "*", new Fallback.ReturnDefault(), 1000)));
    Woven w = new Woven();
    assertThat(Woven.wide(1L << 40, 2.9, 3)).isEqualTo((1L << 40) + 6);
    StringBuilder log = new StringBuilder();
    assertThat(w.finallyReturn(log, 4)).isEqualTo(8);
    assertThat(w.finallyReturn(log, 0)).isEqualTo(-1);
    assertThat(log).hasToString("fzerof");
    assertThat(w.doubled(1.5, 3)).isEqualTo(12.0);
    assertThat(Woven.loopFirst(5)).isZero();
    assertThatThrownBy(() -> w.thrower("")).isInstanceOf(IllegalArgumentException.class);
    assertThat(w.thrower("ok")).isEqualTo("ok");
    assertThat(w.catcher("12")).isEqualTo(12);
    assertThat(w.catcher("x")).isEqualTo(-1);
    assertThat(w.flag(false)).isTrue();
    assertThat(w.upper('q')).isEqualTo('Q');
    assertThat(w.copy(new int[] {1, 2})).containsExactly(1, 2);
    List<String> l = new ArrayList<>();
    w.add(l);
    assertThat(l).containsExactly("x");

    assertThat(calls("wide", "(JDI)J")).isEqualTo(1);
    assertThat(calls("finallyReturn", "(Ljava/lang/StringBuilder;I)I")).isEqualTo(2);
    assertThat(calls("loopFirst", "(I)I")).isEqualTo(1);
    assertThat(calls("thrower", "(Ljava/lang/String;)Ljava/lang/String;")).isEqualTo(2);
    assertThat(calls("catcher", "(Ljava/lang/String;)I")).isEqualTo(2);
    // every call ended: nothing is left in flight on this thread
    assertThat(w.finallyReturn(log, 1)).isEqualTo(2);
    assertThat(
            engine
                .methods()
                .find(
                    WOVEN,
                    "deepNested",
                    "(Ltestapp/inproc/Woven$Nested;)" + "Ltestapp/inproc/Woven$Nested;")
                .label())
        .isEqualTo("deepNested(Nested)");
    assertThat(engine.methods().find(WOVEN, "wide", "(JDI)J").label())
        .isEqualTo("wide(long,double,int)");
  }

  @Test
  void shortCircuitsReturnEveryKindOfValue() {
    install(
        rules(
            Mode.ENFORCE,
            target("long", "deepLong", new Fallback.ReturnDefault(), 20),
            target("double", "deepDouble", new Fallback.ReturnDefault(), 20),
            target("bool", "deepBool", new Fallback.ReturnDefault(), 20),
            target("array", "deepArray", new Fallback.ReturnNull(), 20),
            target("keep", "deepKeep", new Fallback.ReturnArg(1), 20),
            target("nested", "deepNested", new Fallback.ReturnArg(0), 20)));
    Woven w = new Woven();
    // 20 levels run, the 21st returns the fallback, each level below adds 1
    assertThat(w.deepLong(0)).isEqualTo(20L);
    assertThat(w.deepDouble(0)).isEqualTo(20.0);
    assertThat(w.deepBool(true)).isFalse();
    assertThat(w.deepArray(new String[] {"a"})).isNull();
    // the 21st call's own second argument: 100 + 20
    assertThat(Woven.deepKeep(0, 100L)).isEqualTo(120L);
    assertThat(w.deepNested(new Woven.Nested())).isNotNull();
    assertThat(calls("deepLong", "(J)J")).isEqualTo(21);
    assertThat(calls("deepKeep", "(IJ)J")).isEqualTo(21);
    // the depth is back to 0: the next runaway is stopped at the same level
    assertThat(w.deepLong(0)).isEqualTo(20L);
  }
}
