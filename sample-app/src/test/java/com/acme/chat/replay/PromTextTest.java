package com.acme.chat.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PromTextTest {
  @Test
  void readsSamplesWithLabelsEscapesAndTheTrailingCommaOfSimpleclient() {
    PromText m =
        PromText.parse(
            String.join(
                "\n",
                "# HELP firebreak_kill_switch_state Kill switch state: 0 closed, 1 open, 2 half-open.",
                "# TYPE firebreak_kill_switch_state gauge",
                "firebreak_kill_switch_state{target=\"emoji-render\",} 1.0",
                "firebreak_kill_switch_state{target=\"pipeline\",} 0.0",
                "firebreak_rules_info{version=\"1\",sha256=\"ab12\",source=\"/tmp/a,b \\\"c\\\".yaml\",} 1.0",
                "",
                "process_uptime 12.5 1700000000000",
                "firebreak_calls_total{target=\"x\",method=\"f(String,int)\"} 3E2",
                "not a sample"));
    assertThat(m.byLabel("firebreak_kill_switch_state", "target"))
        .isEqualTo(Map.of("emoji-render", 1.0, "pipeline", 0.0));
    PromText.Sample info = m.all("firebreak_rules_info").get(0);
    assertThat(info.labels())
        .containsEntry("sha256", "ab12")
        .containsEntry("source", "/tmp/a,b \"c\".yaml");
    assertThat(m.value("firebreak_calls_total", "method", "f(String,int)")).isEqualTo(300.0);
    assertThat(m.all("process_uptime"))
        .singleElement()
        .satisfies(s -> assertThat(s.value()).isEqualTo(12.5));
    assertThat(m.value("firebreak_calls_total", "method", "g()")).isNaN();
    assertThat(m.samples()).hasSize(5);
  }
}
