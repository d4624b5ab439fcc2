package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.bootstrap.Dispatcher;
import dev.firebreak.detect.KillSwitch;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC section 4: a rule that fires and the kill switch it trips show in a JFR recording, with the
 * alert's facts, whether or not any alert sink is configured.
 */
class FlightEventsTest {
  private static final long MS = 1_000_000L;

  @Test
  void aTripAndTheSwitchsRoundShowInARecording(@TempDir Path dir) throws Exception {
    RuleSet rules =
        RulesParser.parse(
            "test.yaml",
            ("version: 1\n"
                    + "alerts: {log: 'off'}\n"
                    + "kill-switch: {open-for: 1s, half-open-calls: 1}\n"
                    + "targets:\n"
                    + "  - {name: r, class: a.A, method: f, fallback: return-null,\n"
                    + "     rules: [{name: r-trip, depth: 1, action: trip}]}\n")
                .getBytes(StandardCharsets.UTF_8));
    Path file = dir.resolve("firebreak.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("firebreak.RuleTriggered");
      recording.enable("firebreak.KillSwitch");
      recording.start();

      Engine engine = new Engine(new AlertDispatcher()); // no sink: JFR still gets the facts
      engine.apply(rules);
      MethodInfo f =
          engine.register(
              "a.A", "f", "()Ljava/lang/String;", "f()", "java.lang.String", List.of(), "r");
      Monitor monitor = new Monitor(engine);
      long start = System.nanoTime();
      monitor.tick(start); // the evaluator sees the recording and loads the event classes
      Object thread = engine.thread();
      long outer = engine.enter(f.id(), null, thread);
      long inner = engine.enter(f.id(), null, thread); // depth 2 > 1: fires, trips
      assertThat(inner).isEqualTo(Dispatcher.SHORT_CIRCUIT);
      engine.fallback(f.id(), null);
      engine.exit(f.id(), outer, thread);
      long now = System.nanoTime();
      monitor.tick(now); // sees it open
      monitor.tick(now + 1500 * MS); // half-open after open-for
      assertThat(engine.killSwitch("r").state()).isEqualTo(KillSwitch.State.HALF_OPEN);
      long trial = engine.enter(f.id(), null, thread); // one good trial closes it
      engine.exit(f.id(), trial, thread);
      monitor.tick(now + 1600 * MS);
      assertThat(engine.killSwitch("r").state()).isEqualTo(KillSwitch.State.CLOSED);
      monitor.stop();

      recording.stop();
      recording.dump(file);
    }
    List<RecordedEvent> events = RecordingFile.readAllEvents(file);
    List<RecordedEvent> triggered =
        events.stream()
            .filter(e -> e.getEventType().getName().equals("firebreak.RuleTriggered"))
            .toList();
    assertThat(triggered).hasSize(1);
    RecordedEvent t = triggered.get(0);
    assertThat(t.getString("rule")).isEqualTo("r-trip");
    assertThat(t.getString("target")).isEqualTo("r");
    assertThat(t.getString("method")).isEqualTo("f()");
    assertThat(t.getString("action")).isEqualTo("trip");
    assertThat(t.getString("mode")).isEqualTo("enforce");
    assertThat(t.getDouble("value")).isEqualTo(2.0);
    assertThat(t.getDouble("threshold")).isEqualTo(1.0);
    assertThat(
            events.stream()
                .filter(e -> e.getEventType().getName().equals("firebreak.KillSwitch"))
                .map(
                    e -> e.getString("from") + ">" + e.getString("to") + ":" + e.getString("rule")))
        .containsExactly("closed>open:r-trip", "open>half-open:", "half-open>closed:");
    assertThat(Files.size(file)).isPositive();
  }
}
