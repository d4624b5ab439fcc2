package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.firebreak.bootstrap.Dispatcher;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.MethodInfo;
import dev.firebreak.runtime.Monitor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine and evaluator in process, with a sink that keeps what it gets: when is "resolved"
 * sent.
 */
class ResolvedEventTest {

  @Test
  void aSwitchThatOpensAndClosesBetweenTwoRoundsIsStillResolvedAndTheNextTripIsNotifiedAtOnce()
      throws Exception {
    AlertDispatcher alerts = new AlertDispatcher();
    AlertDispatcherTest.Memory sink = new AlertDispatcherTest.Memory("memory", "memory");
    alerts.setSinks(List.of(sink));
    Engine engine = new Engine(alerts);
    engine.apply(
        RulesParser.parse(
            "test.yaml",
            ("version: 1\n"
                    + "alerts: {log: 'off', repeat-interval: 1h}\n"
                    + "kill-switch: {open-for: 1ms, half-open-calls: 1}\n"
                    + "targets:\n"
                    + "  - {name: r, class: a.R, method: f, fallback: return-null, rules: [{name: r-depth, depth: 1, action: trip}]}\n")
                .getBytes(StandardCharsets.UTF_8)));
    MethodInfo f =
        engine.register(
            "a.R",
            "f",
            "(Ljava/lang/String;)Ljava/lang/String;",
            "f(String)",
            "java.lang.String",
            List.of("java.lang.String"),
            "r");
    Monitor monitor = new Monitor(engine);
    try {
      monitor.tick(System.nanoTime()); // a round with the switch closed
      for (int round = 1; round <= 2; round++) {
        tripOnce(engine, f.id());
        // open-for is 1 ms: let one trial call through, and the switch closes before the next round
        // (the switch half-opens on time when polled: the evaluator's job, done here by hand)
        await()
            .atMost(Duration.ofSeconds(5))
            .until(
                () -> {
                  engine.killSwitch("r").poll(System.nanoTime());
                  long token = engine.enter(f.id(), "x", null);
                  if (token == Dispatcher.SHORT_CIRCUIT) {
                    return false;
                  }
                  engine.exit(f.id(), token, null);
                  return true;
                });
        assertThat(engine.killSwitch("r").state().name()).isEqualTo("CLOSED");
        monitor.tick(System.nanoTime());
        assertThat(alerts.awaitIdle(5_000)).isTrue();
        // round 2: a trip 1h repeat-interval after the first is still notified, because it was
        // resolved in between
        assertThat(sink.got).hasSize(2 * round);
        assertThat(sink.got.get(2 * round - 2).resolved()).isFalse();
        assertThat(sink.got.get(2 * round - 1).resolved()).isTrue();
        assertThat(sink.got.get(2 * round - 1).rule()).isEqualTo("r-depth");
      }
    } finally {
      monitor.stop();
      alerts.stop();
    }
  }

  /** Depth 2 of a depth-1 rule: the inner call trips the switch. */
  private static void tripOnce(Engine engine, int id) {
    long outer = engine.enter(id, "x", null);
    assertThat(outer).isNotEqualTo(Dispatcher.SHORT_CIRCUIT);
    assertThat(engine.enter(id, "x", null)).isEqualTo(Dispatcher.SHORT_CIRCUIT);
    engine.exit(id, outer, null);
  }
}
