package dev.firebreak.instrument;

import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Position;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import java.time.Duration;
import java.util.List;

/** Builds rule sets in code for in-process tests (the parser has its own tests). */
final class TestRules {
  static final Position POS = new Position("test.yaml", 1, 1);

  static Rule depth(String name, int limit, Action action) {
    return new Rule(name, new Rule.Depth(limit), action, null, POS);
  }

  static Target target(String name, String cls, String method, Fallback fallback, Rule... rules) {
    return new Target(
        name, cls, method, false, null, fallback, Target.Force.CLOSED, false, List.of(rules), POS);
  }

  static RuleSet rules(Mode mode, Target... targets) {
    return new RuleSet(
        1,
        "test.yaml",
        "0".repeat(64),
        new RuleSet.MetricsConfig("127.0.0.1", 0),
        new RuleSet.AlertsConfig("off", null, null, Duration.ofSeconds(30), java.util.Map.of()),
        RuleSet.ReloadConfig.DEFAULT,
        RuleSet.AdminConfig.DEFAULT,
        new RuleSet.KillSwitchConfig(Duration.ofSeconds(60), 2),
        mode,
        List.of(targets));
  }
}
