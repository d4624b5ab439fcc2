package dev.firebreak.instrument;

import static dev.firebreak.instrument.TestRules.depth;
import static dev.firebreak.instrument.TestRules.rules;
import static dev.firebreak.instrument.TestRules.target;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.bootstrap.ShortCircuitException;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.Monitor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import testapp.inproc.Recurser;

/**
 * Layer 2: the advice installed in this JVM with ByteBuddyAgent, on a real recursive class, the way
 * the agent installs it: the class gate in front of the advice transformer, and the classes already
 * loaded retransformed.
 */
class InstrumenterTest {
  private InProcessAgent agent;
  private Engine engine;
  private Monitor monitor;

  @BeforeEach
  void setUp() {
    engine = new Engine(new AlertDispatcher());
    monitor = new Monitor(engine);
    agent = new InProcessAgent(engine);
  }

  @AfterEach
  void tearDown() {
    agent.close();
  }

  private void install(RuleSet rs) {
    engine.apply(rs);
    agent.install(rs);
  }

  @Test
  void depthTripReturnsTheArgumentInsteadOfOverflowingTheStack() {
    install(
        rules(
            Mode.ENFORCE,
            target(
                "rec",
                "testapp.inproc.Recurser",
                "expand",
                new Fallback.ReturnArg(0),
                depth("deep", 32, Action.TRIP))));
    assertThat(new Recurser().expand("hello", 0)).isEqualTo("hello");
    int id =
        engine
            .methods()
            .find("testapp.inproc.Recurser", "expand", "(Ljava/lang/String;I)Ljava/lang/String;")
            .id();
    // 32 calls ran, the 33rd was short-circuited
    assertThat(monitor.calls(id)).isEqualTo(33);
    // the switch is open now: the next call is short-circuited at once
    assertThat(new Recurser().expand("again", 0)).isEqualTo("again");
    assertThat(monitor.calls(id)).isEqualTo(34);
    assertThat(monitor.targets().get(0).killSwitchState()).isEqualTo(1);
    assertThat(monitor.targets().get(0).shortLimit()).isEqualTo(1);
    assertThat(monitor.targets().get(0).shortOpen()).isEqualTo(1);
  }

  @Test
  void limitOnPrimitiveReturnsDefaultAndVoidJustReturns() {
    install(
        rules(
            Mode.ENFORCE,
            target(
                "count",
                "testapp.inproc.Recurser",
                "count",
                new Fallback.ReturnDefault(),
                depth("c", 10, Action.LIMIT)),
            target(
                "touch",
                "testapp.inproc.Recurser",
                "touch",
                new Fallback.ReturnDefault(),
                depth("t", 5, Action.LIMIT))));
    // each of 10 levels adds 1 to the 0 the 11th call returns
    assertThat(new Recurser().count(0)).isEqualTo(10);
    assertThat(new Recurser().count(0)).isEqualTo(10);
    StringBuilder sb = new StringBuilder();
    new Recurser().touch(sb);
    assertThat(sb.toString()).isEqualTo("xxxxx");
  }

  @Test
  void throwFallbackNamesRuleTargetAndDepth() {
    install(
        rules(
            Mode.ENFORCE,
            target(
                "rec",
                "testapp.inproc.Recurser",
                "expand",
                new Fallback.Throw(),
                depth("deep", 7, Action.LIMIT))));
    assertThatThrownBy(() -> new Recurser().expand("x", 0))
        .isInstanceOf(ShortCircuitException.class)
        .hasMessageContaining("deep")
        .hasMessageContaining("rec")
        .hasMessageContaining("depth 8");
  }

  @Test
  void observeModeNeverShortCircuits() {
    install(
        rules(
            Mode.OBSERVE,
            target(
                "rec",
                "testapp.inproc.Recurser",
                "count",
                new Fallback.ReturnDefault(),
                depth("c", 10, Action.TRIP))));
    assertThatThrownBy(() -> new Recurser().count(0)).isInstanceOf(StackOverflowError.class);
    assertThat(monitor.rules().get(0).triggers()).isEqualTo(1);
    assertThat(monitor.rules().get(0).mode()).isEqualTo("observe");
    assertThat(monitor.targets().get(0).killSwitchState()).isZero();
  }

  @Test
  void aCallBudgetTripsALoopThatNeverRecursesAtTheLimit() {
    dev.firebreak.rules.Rule budget =
        new dev.firebreak.rules.Rule(
            "loop-budget",
            new dev.firebreak.rules.Rule.CallsPerInvocation(1000, "outer"),
            Action.TRIP,
            null,
            TestRules.POS);
    install(
        rules(
            Mode.ENFORCE,
            target("outer", "testapp.inproc.Looper", "outer", new Fallback.ReturnDefault()),
            target(
                "inner", "testapp.inproc.Looper", "inner", new Fallback.ReturnDefault(), budget)));
    testapp.inproc.Looper.bodies = 0;
    // 1000 calls run and return 1; the 1001st trips the switch and every later call returns 0
    assertThat(new testapp.inproc.Looper().outer(1_000_000)).isEqualTo(1000);
    assertThat(testapp.inproc.Looper.bodies).isEqualTo(1000);
    Monitor.RuleMetrics rule =
        monitor.rules().stream()
            .filter(r -> r.rule().equals("loop-budget"))
            .findFirst()
            .orElseThrow();
    assertThat(rule.triggers()).isEqualTo(1);
    assertThat(monitor.targets().get(1).killSwitchState()).isEqualTo(1);
    // calls outside an invocation of `outer` are not counted against the budget
    assertThat(new testapp.inproc.Looper().inner(0)).isZero(); // the switch is still open
  }

  @Test
  void aCallBudgetResetsWithEachInvocationOfItsOuterTarget() {
    dev.firebreak.rules.Rule budget =
        new dev.firebreak.rules.Rule(
            "loop-budget",
            new dev.firebreak.rules.Rule.CallsPerInvocation(100, "outer"),
            Action.LIMIT,
            null,
            TestRules.POS);
    install(
        rules(
            Mode.ENFORCE,
            target("outer", "testapp.inproc.Looper", "outer", new Fallback.ReturnDefault()),
            target(
                "inner", "testapp.inproc.Looper", "inner", new Fallback.ReturnDefault(), budget)));
    for (int k = 0; k < 5; k++) {
      assertThat(new testapp.inproc.Looper().outer(100)).isEqualTo(100);
    }
    assertThat(new testapp.inproc.Looper().outer(150)).isEqualTo(100);
    assertThat(monitor.targets().get(1).shortLimit()).isEqualTo(50);
  }

  @Test
  void subtypesTrueCoversClassesExtendingOrImplementingTheNamedType() {
    dev.firebreak.rules.Target shapes =
        new dev.firebreak.rules.Target(
            "shapes",
            "testapp.inproc.Shapes$Shape",
            "draw",
            true,
            null,
            new Fallback.ReturnDefault(),
            dev.firebreak.rules.Target.Force.CLOSED,
            false,
            java.util.List.of(depth("shape-depth", 5, Action.LIMIT)),
            TestRules.POS);
    dev.firebreak.rules.Target handlers =
        new dev.firebreak.rules.Target(
            "handlers",
            "testapp.inproc.Shapes$Handler",
            "handle",
            true,
            null,
            new Fallback.ReturnArg(0),
            dev.firebreak.rules.Target.Force.CLOSED,
            false,
            java.util.List.of(depth("handler-depth", 3, Action.LIMIT)),
            TestRules.POS);
    install(rules(Mode.ENFORCE, shapes, handlers));
    assertThat(new testapp.inproc.Shapes.Circle().draw(0)).isEqualTo(5);
    assertThat(new testapp.inproc.Shapes.Loud().handle("hey")).isEqualTo("hey!!!");
    assertThat(new testapp.inproc.Shapes.Bystander().draw(7)).isEqualTo(7);
    assertThat(engine.methods().find("testapp.inproc.Shapes$Bystander", "draw", "(I)I")).isNull();
  }

  @Test
  void applicationExceptionsPassThroughAndDepthUnwinds() {
    install(
        rules(
            Mode.ENFORCE,
            target(
                "boom",
                "testapp.inproc.Recurser",
                "boom",
                new Fallback.ReturnNull(),
                depth("b", 1, Action.LIMIT))));
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> new Recurser().boom("a"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("boom a");
    }
    assertThat(monitor.targets().get(0).inflight()).isZero();
    assertThat(monitor.targets().get(0).shortLimit()).isZero();
  }
}
