package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.bootstrap.Dispatcher;
import dev.firebreak.detect.KillSwitch;
import dev.firebreak.rules.RulesParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine's hot path against one target with a trip rule and a tighter limit rule. */
class HalfOpenTrialTest {

  @Test
  void aTrialCallShortCircuitedByALimitRuleOpensTheSwitchAgain() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(
        RulesParser.parse(
            "test.yaml",
            ("version: 1\n"
                    + "alerts: {log: 'off'}\n"
                    + "kill-switch: {open-for: 1ms, half-open-calls: 2}\n"
                    + "targets:\n"
                    + "  - {name: r, class: a.R, method: f, fallback: return-null, rules: [\n"
                    + "      {name: r-trip, depth: 3, action: trip},\n"
                    + "      {name: r-limit, depth: 1, action: limit}]}\n")
                .getBytes(StandardCharsets.UTF_8)));
    MethodInfo f = engine.register("a.R", "f", "()V", "f()", "void", List.of(), "r");
    KillSwitch ks = engine.killSwitch("r");
    ks.trip(0, "r-trip");
    ks.poll(System.nanoTime());
    assertThat(ks.state()).isEqualTo(KillSwitch.State.HALF_OPEN);
    long outer = engine.enter(f.id(), null, null); // a trial
    assertThat(outer).isNotEqualTo(Dispatcher.SHORT_CIRCUIT);
    // its nested call is over the limit rule: short-circuited, and the trial has failed
    assertThat(engine.enter(f.id(), null, null)).isEqualTo(Dispatcher.SHORT_CIRCUIT);
    assertThat(ks.state()).isEqualTo(KillSwitch.State.OPEN);
    engine.exit(f.id(), outer, null);
    assertThat(ks.state()).isEqualTo(KillSwitch.State.OPEN);
  }
}
