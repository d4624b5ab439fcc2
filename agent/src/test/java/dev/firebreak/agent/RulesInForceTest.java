package dev.firebreak.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.rules.RuleSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the rules file at start and on reload: what is kept, counted and answered. */
class RulesInForceTest {
  private static final String GOOD =
      "version: 1\n"
          + "metrics: {port: 0}\n"
          + "targets:\n"
          + "  - {name: t, class: a.A, rules: [{name: t-depth, depth: 3, action: alert}]}\n";

  @Test
  void aBadFileOnReloadIsCountedAndTheRulesInForceStay(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(file, GOOD);
    RulesInForce r = new RulesInForce(file.toString());
    RuleSet first = r.readInitial(null);
    assertThat(first).isNotNull();
    r.accept(first);
    assertThat(r.text()).isEqualTo(GOOD);

    assertThat(r.readForReload().answer().json()).contains("\"unchanged\"");

    Files.writeString(file, GOOD.replace("depth: 3", "depth: -3"));
    RulesInForce.Read bad = r.readForReload();
    assertThat(bad.next()).isNull();
    assertThat(bad.answer().ok()).isFalse();
    assertThat(bad.answer().json()).contains("\"failure\"").contains("depth");
    assertThat(r.rules()).isSameAs(first);
    assertThat(r.reloads().get("failure").sum()).isEqualTo(1);

    Files.writeString(file, GOOD.replace("depth: 3", "depth: 4"));
    RulesInForce.Read next = r.readForReload();
    assertThat(next.next()).isNotNull();
    assertThat(next.next().sha256()).isNotEqualTo(first.sha256());
    assertThat(r.rules()).as("not in force until accepted").isSameAs(first);
    r.accept(next.next());
    assertThat(r.text()).contains("depth: 4");
  }

  @Test
  void withoutAFileThereIsNothingToReadOrReload() {
    RulesInForce r = new RulesInForce(null);
    assertThat(r.readInitial(null)).isNull();
    assertThat(r.readForReload().answer().json()).contains("detached");
  }
}
