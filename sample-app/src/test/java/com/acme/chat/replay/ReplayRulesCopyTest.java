package com.acme.chat.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class ReplayRulesCopyTest {
  @SuppressWarnings("unchecked")
  @Test
  void theCopyChangesOnlyTheAlertLogAndTheMetricsPort(@TempDir Path dir) throws Exception {
    Replay.Options o =
        new Replay.Options(
            null,
            null,
            null,
            10,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            3,
            "bad-update",
            true,
            true,
            false,
            false,
            null);
    Path alerts = dir.resolve("alerts.jsonl");
    Path copy =
        new Replay(o, System.out, System.err).writeRules(dir.resolve("r.yaml"), alerts, 12345);
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    Map<String, Object> r = yaml.load(Files.readString(copy));
    Map<String, Object> original =
        yaml.load(getClass().getResourceAsStream("/rules/emoji-pipeline.yaml"));
    assertThat((Map<String, Object>) r.get("metrics"))
        .containsEntry("port", 12345)
        .containsEntry("host", "127.0.0.1");
    assertThat((Map<String, Object>) r.get("alerts"))
        .containsEntry("log", alerts.toAbsolutePath().toString());
    assertThat(r.get("targets")).isEqualTo(original.get("targets"));
    assertThat(r.get("kill-switch")).isEqualTo(original.get("kill-switch"));
    assertThat(((List<?>) r.get("targets"))).hasSize(4);
  }
}
