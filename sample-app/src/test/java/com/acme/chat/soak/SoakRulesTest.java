package com.acme.chat.soak;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.chat.replay.RulesCopy;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SoakRulesTest {
  private static SoakRules rules() throws Exception {
    String text;
    try (InputStream in = SoakRulesTest.class.getResourceAsStream("/rules/emoji-pipeline.yaml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return new SoakRules(
        text,
        Path.of("/tmp/soak/alerts.jsonl"),
        12345,
        URI.create("http://127.0.0.1:9093"),
        Path.of("/tmp/soak/admin-token"),
        Duration.ofSeconds(3),
        Duration.ofSeconds(1));
  }

  @SuppressWarnings("unchecked")
  @Test
  void theBaseFileIsTheSresWithTheRunsPortsSinksTokenAndTimings() throws Exception {
    Map<String, Object> base = RulesCopy.parse(rules().base().text());
    Map<String, Object> original = RulesCopy.parse(RulesCopy.read(null));
    assertThat(base.get("targets")).isEqualTo(original.get("targets"));
    assertThat((Map<String, Object>) base.get("metrics"))
        .containsEntry("port", 12345)
        .containsEntry("host", "127.0.0.1");
    assertThat((Map<String, Object>) base.get("alerts"))
        .containsEntry("alertmanager", "http://127.0.0.1:9093")
        .containsEntry("log", "/tmp/soak/alerts.jsonl");
    assertThat((Map<String, Object>) base.get("admin"))
        .containsEntry("token-file", "/tmp/soak/admin-token");
    assertThat((Map<String, Object>) base.get("kill-switch")).containsEntry("open-for", "3s");
    assertThat((Map<String, Object>) base.get("reload"))
        .containsEntry("interval", "1s")
        .containsEntry("watch", true);
  }

  @Test
  void variantsAreAllDifferentAndOnlyOneLacksTheRenderer() throws Exception {
    SoakRules r = rules();
    List<SoakRules.Variant> valid = r.valid();
    List<SoakRules.Variant> invalid = r.invalid();
    assertThat(valid)
        .hasSizeGreaterThanOrEqualTo(3)
        .allSatisfy(
            v -> {
              assertThat(v.valid()).isTrue();
              assertThat(targets(v)).contains(SoakRules.RENDERER, SoakRules.LOOKUP);
            });
    assertThat(valid.get(0).text()).isEqualTo(r.base().text());
    assertThat(targets(r.withoutRenderer()))
        .doesNotContain(SoakRules.RENDERER)
        .contains(SoakRules.LOOKUP);
    assertThat(invalid).hasSize(3).allSatisfy(v -> assertThat(v.valid()).isFalse());
    assertThat(invalid.get(1).text()).contains("depht: 32").doesNotContain("depth: 32");
    assertThat(invalid.get(2).text()).contains("of: no-such-target");
    List<String> shas = new java.util.ArrayList<>();
    for (SoakRules.Variant v : valid) shas.add(v.sha256());
    for (SoakRules.Variant v : invalid) shas.add(v.sha256());
    shas.add(r.withoutRenderer().sha256());
    assertThat(shas).doesNotHaveDuplicates();
  }

  @SuppressWarnings("unchecked")
  private static List<Object> targets(SoakRules.Variant v) {
    return ((List<Map<String, Object>>) RulesCopy.parse(v.text()).get("targets"))
        .stream().map(t -> t.get("name")).toList();
  }
}
