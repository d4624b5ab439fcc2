package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.alert.AlertEvent;
import dev.firebreak.alert.AlertSink;
import dev.firebreak.bootstrap.Dispatcher;
import dev.firebreak.bootstrap.Probe;
import dev.firebreak.bootstrap.ShortCircuitException;
import dev.firebreak.detect.KillSwitch;
import dev.firebreak.detect.LatencyWindow;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * The engine and evaluator in process, with reloads, trips and failures landing between a call's
 * enter and exit (issue 13). Each test drives {@link Engine#enter}/{@link Engine#exit} the way the
 * advice does, on the test thread or one of its own.
 */
class EngineInterleavingTest {
  private static final long MS = 1_000_000L;

  private static RuleSet rules(String targets) throws Exception {
    return RulesParser.parse(
        "test.yaml",
        ("version: 1\n"
                + "alerts: {log: 'off', repeat-interval: 1h}\n"
                + "kill-switch: {open-for: 1s, half-open-calls: 1}\n"
                + "targets:"
                + (targets.isEmpty() ? " []\n" : "\n" + targets))
            .getBytes(StandardCharsets.UTF_8));
  }

  private static String target(String name, String method, String rules) {
    return "  - {name: "
        + name
        + ", class: a.A, method: '"
        + method
        + "', fallback: return-null, rules: ["
        + rules
        + "]}\n";
  }

  private static MethodInfo register(Engine engine, String method, String target) {
    return engine.register(
        "a.A",
        method,
        "()Ljava/lang/String;",
        method + "()",
        "java.lang.String",
        List.of(),
        target);
  }

  /**
   * Issue 13, 2: a reload pushes counter ids past a thread's arrays; its next call must not throw.
   */
  @Test
  void aThreadMadeBeforeAReloadThatAddsManyCountersRunsTheNewBudgetsWithoutFailing()
      throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules(target("outer", "run", "{name: outer-deep, depth: 50, action: limit}")));
    MethodInfo run = register(engine, "run", "outer");
    long first =
        engine.enter(run.id(), null, null); // the thread's state is made now, with small arrays
    engine.exit(run.id(), first, null);
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      many.append(
          target("filler-" + i, "f" + i, "{name: filler-" + i + "-deep, depth: 5, action: alert}"));
    }
    many.append(target("outer", "run", "{name: outer-deep, depth: 50, action: limit}"));
    many.append(
        target(
            "inner",
            "tick",
            "{name: inner-budget, calls-per-invocation: {limit: 2, of: outer}, action: limit}"));
    engine.apply(rules(many.toString()));
    MethodInfo tick = register(engine, "tick", "inner");
    for (int message = 0; message < 3; message++) {
      long outer =
          engine.enter(run.id(), null, null); // the outermost call resets a budget slot past 16
      assertThat(outer).isGreaterThan(Dispatcher.UNTRACKED);
      int shorts = 0;
      for (int i = 0; i < 3; i++) {
        long t = engine.enter(tick.id(), null, null);
        if (t == Dispatcher.SHORT_CIRCUIT) {
          shorts++;
        } else {
          engine.exit(tick.id(), t, null);
        }
      }
      engine.exit(run.id(), outer, null);
      assertThat(shorts)
          .as("message %d: the third call of three is over a budget of 2", message)
          .isEqualTo(1);
    }
  }

  /** Issue 13, 1: a method moved to another target while a call is inside it. */
  @Test
  void aCallThatEnteredUnderOneTargetLeavesUnderItWhenAReloadMovedItsMethod() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    Monitor monitor = new Monitor(engine);
    engine.apply(rules(target("x", "run", "{name: x-deep, depth: 50, action: limit}")));
    MethodInfo run = register(engine, "run", "x");
    long token = engine.enter(run.id(), null, null);
    engine.apply(rules(target("y", "run", "{name: y-deep, depth: 50, action: limit}")));
    register(engine, "run", "y"); // the retransformation re-registers it for its new target
    int xCounter = engine.counters().id("target:x");
    int yCounter = engine.counters().id("target:y");
    assertThat(monitor.inflight(xCounter)).isEqualTo(1);
    engine.exit(run.id(), token, null);
    assertThat(monitor.inflight(xCounter)).isZero();
    assertThat(monitor.inflight(yCounter)).isZero();
    long next = engine.enter(run.id(), null, null);
    assertThat(monitor.inflight(yCounter)).isEqualTo(1);
    engine.exit(run.id(), next, null);
    assertThat(monitor.inflight(yCounter)).isZero();
  }

  /** Issue 13, 6: a target removed and added again starts with a closed switch. */
  @Test
  void aTargetRemovedAndAddedAgainStartsClosed() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    String t = target("r", "f", "{name: r-trip, depth: 1, action: trip}");
    engine.apply(rules(t));
    engine.killSwitch("r").trip(System.nanoTime(), "r-trip");
    engine.apply(rules(""));
    engine.apply(rules(t));
    assertThat(engine.killSwitch("r").state()).isEqualTo(KillSwitch.State.CLOSED);
    assertThat(engine.targetStates()).containsOnlyKeys("r");
    assertThat(engine.ruleStates()).containsOnlyKeys("r-trip|r");
  }

  /** Issue 13, 8: a reload between a short-circuit and its fallback keeps the fallback. */
  @Test
  void aThrowFallbackStaysAThrowWhenAReloadLandsBeforeIt() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(
        rules(
            "  - {name: r, class: a.A, method: f, rules: [{name: r-open, depth: 1, action: trip}], force: open}\n"));
    MethodInfo f = register(engine, "f", "r");
    assertThat(engine.enter(f.id(), null, null)).isEqualTo(Dispatcher.SHORT_CIRCUIT);
    engine.apply(rules(""));
    assertThat(engine.fallback(f.id(), null)).isInstanceOf(ShortCircuitException.class);
  }

  /**
   * Issue 13, 2: a StackOverflowError inside the agent (in enter, or in an exit that then never
   * pops its frame) leaves no depth behind once the runaway has unwound.
   */
  @Test
  void aStackOverflowInsideTheAdviceLeavesNoDepthBehind() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    Monitor monitor = new Monitor(engine);
    engine.apply(rules(target("r", "f", "{name: r-deep, depth: 100000000, action: alert}")));
    MethodInfo f = register(engine, "f", "r");
    int counter = engine.counters().id("target:r");
    AtomicReference<String> after = new AtomicReference<>();
    Probe.install(engine);
    try {
      Thread t =
          new Thread(
              null,
              () -> {
                for (int round = 0; round < 20; round++) {
                  try {
                    recurse(f.id());
                  } catch (StackOverflowError expected) {
                    // the runaway ends here, as an application's catch would end it
                  }
                }
                after.set(monitor.inflight(counter) + " " + engine.enter(f.id(), null, null));
              },
              "runaway",
              256 * 1024);
      t.start();
      t.join();
    } finally {
      Probe.install(null);
    }
    String[] parts = after.get().split(" ");
    assertThat(parts[0]).as("in flight on the thread once unwound").isEqualTo("0");
    assertThat(Long.parseLong(parts[1])).isEqualTo(2L); // its next call is the thread's first frame
  }

  private static void recurse(int id) {
    Object thread = Probe.thread();
    long token = Probe.enter(id, null, thread);
    try {
      recurse(id);
    } finally {
      Probe.exit(id, token, thread);
    }
  }

  /**
   * Issue 13, 5: two methods of one target over a latency rule; one recovers while the other stays
   * slow: no "resolved" until both are fast, and the alert names the worst method.
   */
  @Test
  void aLatencyRuleIsJudgedPerTargetAndResolvesOnlyWhenNoMethodIsSlow() throws Exception {
    AlertDispatcher alerts = new AlertDispatcher();
    List<AlertEvent> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    alerts.setSinks(
        List.of(
            new AlertSink() {
              @Override
              public String name() {
                return "memory";
              }

              @Override
              public void send(AlertEvent event) {
                got.add(event);
              }
            }));
    Engine engine = new Engine(alerts);
    engine.apply(
        rules(
            target(
                "r",
                "*",
                "{name: r-slow, latency: {percentile: 99, above: 50ms, window: 2s}, action: alert}")));
    MethodInfo a = register(engine, "a", "r");
    MethodInfo b = register(engine, "b", "r");
    Monitor monitor = new Monitor(engine);
    ThreadState ts = (ThreadState) engine.thread();
    ts.ensure(b.id(), 1); // what enter does before a call can record
    long now = 0;
    try {
      engine.record(ts, a.id(), 100 * MS);
      engine.record(ts, b.id(), 200 * MS);
      monitor.tick(now);
      for (int second = 1; second <= 6; second++) {
        now += 1000 * MS;
        engine.record(ts, a.id(), 1 * MS); // a recovered
        engine.record(ts, b.id(), 200 * MS); // b did not
        monitor.tick(now);
      }
      for (int second = 7; second <= 10; second++) {
        now += 1000 * MS;
        engine.record(ts, a.id(), 1 * MS);
        engine.record(ts, b.id(), 1 * MS);
        monitor.tick(now);
      }
      assertThat(alerts.awaitIdle(5_000)).isTrue();
      assertThat(got).extracting(AlertEvent::resolved).containsExactly(false, true);
      assertThat(got.get(0).method()).isEqualTo("b()");
      assertThat(got.get(0).value()).isGreaterThan(150);
    } finally {
      monitor.stop();
      alerts.stop();
    }
  }

  /** Issue 13, 7: a window's memory does not grow with its length. */
  @Test
  void aLatencyWindowKeepsAFixedNumberOfSubWindows() {
    LatencyWindow hour =
        new LatencyWindow(3600, ThreadState.LOWEST_NANOS, ThreadState.HIGHEST_NANOS, 1);
    LatencyWindow half =
        new LatencyWindow(30, ThreadState.LOWEST_NANOS, ThreadState.HIGHEST_NANOS, 1);
    assertThat(hour.slots()).isLessThanOrEqualTo(LatencyWindow.MAX_SLOTS + 1);
    assertThat(half.slots()).isLessThanOrEqualTo(LatencyWindow.MAX_SLOTS + 1);
    assertThat(hour.seconds()).isEqualTo(3600);
    // what went in an hour ago is still in the hour; an hour and a slot (5 minutes) later it is not
    Histogram one = ThreadState.newHistogram();
    one.recordValue(5 * MS);
    long start = 10_000L * 1000 * MS;
    hour.add(start, one);
    assertThat(hour.window(start + 60 * 60 * 1000 * MS).getTotalCount()).isEqualTo(1);
    assertThat(hour.window(start + 65 * 60 * 1000 * MS).getTotalCount()).isZero();
  }

  /**
   * Issue 13, 9: a part of the evaluator that fails does not keep an open switch from half-opening.
   */
  @Test
  void aFailingDrainDoesNotStopTheSwitchesFromBeingPolled() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules(target("r", "f", "{name: r-trip, depth: 1, action: trip}")));
    register(engine, "f", "r");
    Monitor monitor = new Monitor(engine);
    Thread dead = new Thread(() -> {});
    dead.start();
    dead.join();
    ThreadState broken = new ThreadState(dead);
    broken.calls = null; // releasing it throws
    engine.threads.add(broken);
    engine.killSwitch("r").trip(0, "r-trip");
    assertThatCode(() -> monitor.tick(2000 * MS)).doesNotThrowAnyException();
    assertThat(engine.killSwitch("r").state()).isEqualTo(KillSwitch.State.HALF_OPEN);
    engine.threads.remove(broken);
  }
}
