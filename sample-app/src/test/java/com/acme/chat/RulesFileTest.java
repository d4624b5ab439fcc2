package com.acme.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * rules/emoji-pipeline.yaml (shipped in the jar) names classes and methods that exist here;
 * rules/auto-fence.yaml names none and fences the service's own packages.
 */
class RulesFileTest {
  @SuppressWarnings("unchecked")
  @Test
  void rulesReferToRealMethods() throws Exception {
    String text;
    try (InputStream in = getClass().getResourceAsStream("/rules/emoji-pipeline.yaml")) {
      assertThat(in).as("rules/emoji-pipeline.yaml is packaged").isNotNull();
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(text.lines().findFirst())
        .contains("# yaml-language-server: $schema=firebreak-rules.schema.json");
    Map<String, Object> rules = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    assertThat(rules.get("version")).isEqualTo(1);
    assertThat((Map<String, Object>) rules.get("kill-switch"))
        .containsEntry("open-for", "10s")
        .containsEntry("half-open-calls", 5);
    List<Map<String, Object>> targets = (List<Map<String, Object>>) rules.get("targets");
    List<String> names = new ArrayList<>();
    for (Map<String, Object> t : targets) {
      names.add((String) t.get("name"));
      Class<?> c = Class.forName((String) t.get("class"));
      String method = (String) t.get("method");
      assertThat(Arrays.stream(c.getDeclaredMethods()).map(Method::getName))
          .as(t.get("name") + " method")
          .contains(method);
    }
    assertThat(names).containsExactly("emoji-render", "emoji-lookup", "serialize", "pipeline");
    Map<String, Object> render = targets.get(0);
    assertThat(render)
        .containsEntry("class", "com.acme.chat.render.EmojiRenderer")
        .containsEntry("method", "expand")
        .containsEntry("fallback", "return-arg:0");
    assertThat((List<Map<String, Object>>) render.get("rules"))
        .singleElement()
        .isEqualTo(Map.of("name", "emoji-recursion", "depth", 32, "action", "trip"));
    assertThat(
            Class.forName("com.acme.chat.render.EmojiRenderer")
                .getMethod("expand", String.class, int.class)
                .getReturnType())
        .isEqualTo(String.class);
    assertThat(text)
        .contains("calls-per-invocation: {limit: 10000, of: pipeline}")
        .contains("duration: 2s")
        .contains("latency: {percentile: 99,");
  }

  @SuppressWarnings("unchecked")
  @Test
  void theAutoFenceFileNamesNoMethodAndCoversTheServicesOwnCode() throws Exception {
    String text;
    try (InputStream in = getClass().getResourceAsStream("/rules/auto-fence.yaml")) {
      assertThat(in).as("rules/auto-fence.yaml is packaged").isNotNull();
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(text.lines().findFirst())
        .contains("# yaml-language-server: $schema=firebreak-rules.schema.json");
    Map<String, Object> rules = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    assertThat(rules.get("version")).isEqualTo(1);
    assertThat(rules).doesNotContainKey("targets");
    assertThat(text).doesNotContainIgnoringCase("EmojiRenderer").doesNotContain("expand");
    Map<String, Object> fence = (Map<String, Object>) rules.get("auto-fence");
    assertThat(fence)
        .containsEntry("packages", List.of("com.acme.chat.**"))
        .containsEntry("depth", 256)
        .containsEntry("action", "limit")
        .containsEntry("fallback", "return-arg:0");
    // the recursion of the outage is in com.acme.chat, and return-arg:0 fits its signature
    Method expand =
        Class.forName("com.acme.chat.render.EmojiRenderer")
            .getMethod("expand", String.class, int.class);
    assertThat(expand.getDeclaringClass().getName()).startsWith("com.acme.chat.");
    assertThat(expand.getReturnType()).isEqualTo(expand.getParameterTypes()[0]);
  }
}
