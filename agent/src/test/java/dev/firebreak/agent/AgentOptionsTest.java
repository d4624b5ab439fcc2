package dev.firebreak.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
  @Test
  void parsesKeyValuePairs() {
    AgentOptions o = AgentOptions.parse("rules=/etc/r.yaml,port=9999,host=0.0.0.0", Map.of());
    assertThat(o.rules()).isEqualTo("/etc/r.yaml");
    assertThat(o.port()).isEqualTo(9999);
    assertThat(o.host()).isEqualTo("0.0.0.0");
    assertThat(o.unknown()).isEmpty();
  }

  @Test
  void rulesFromTheEnvironmentWhenNotGiven() {
    assertThat(AgentOptions.parse("", Map.of("FIREBREAK_RULES", "/x.yaml")).rules())
        .isEqualTo("/x.yaml");
    assertThat(AgentOptions.parse("rules=/a.yaml", Map.of("FIREBREAK_RULES", "/x.yaml")).rules())
        .isEqualTo("/a.yaml");
    assertThat(AgentOptions.parse(null, Map.of()).rules()).isNull();
  }

  @Test
  void badValuesAndUnknownKeysAreReportedNotFatal() {
    AgentOptions o = AgentOptions.parse("port=abc,colour=blue", Map.of());
    assertThat(o.port()).isNull();
    assertThat(o.unknown()).containsOnlyKeys("port", "colour");
  }

  @Test
  void theDefaultStartIsWatchedAndTheFastOneMustBeNamed() {
    assertThat(AgentOptions.parse("rules=/r.yaml", Map.of()).startup())
        .isEqualTo(AgentOptions.Startup.WATCHED);
    assertThat(AgentOptions.parse("startup=watched", Map.of()).startup())
        .isEqualTo(AgentOptions.Startup.WATCHED);
    assertThat(AgentOptions.parse("startup=lazy", Map.of()).startup())
        .isEqualTo(AgentOptions.Startup.LAZY);
    // the names of earlier versions keep their meaning
    assertThat(AgentOptions.parse("startup=wait", Map.of()).startup())
        .isEqualTo(AgentOptions.Startup.WATCHED);
    assertThat(AgentOptions.parse("startup=background", Map.of()).startup())
        .isEqualTo(AgentOptions.Startup.LAZY);
    AgentOptions bad = AgentOptions.parse("startup=fast", Map.of());
    assertThat(bad.startup()).isEqualTo(AgentOptions.Startup.WATCHED);
    assertThat(bad.unknown()).containsOnlyKeys("startup");
  }
}
