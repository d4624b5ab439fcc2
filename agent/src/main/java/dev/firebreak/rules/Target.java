package dev.firebreak.rules;

import java.util.List;

/**
 * A set of methods to watch, and the rules that watch them.
 *
 * @param classGlob {@code *} inside one package segment, {@code **} across segments
 * @param methodGlob glob over method names, {@code *} any run of characters
 * @param group null, or the name of the depth counter this target shares with others
 * @param histogram time every call (the duration histogram) even without a latency or duration rule
 * @param leaves a method glob also selects methods with no invoke instruction and no loop
 * @param members empty for a target of the rules file; for an automatic target (an auto-fence),
 *     exactly the methods it covers, each {@code binary.ClassName#method}
 */
public record Target(
    String name,
    String classGlob,
    String methodGlob,
    boolean subtypes,
    String group,
    Fallback fallback,
    Force force,
    boolean captureArgument,
    boolean histogram,
    boolean leaves,
    List<Rule> rules,
    Position position,
    List<String> members) {

  public Target {
    rules = List.copyOf(rules);
    members = List.copyOf(members);
  }

  /** A target of the rules file. */
  public Target(
      String name,
      String classGlob,
      String methodGlob,
      boolean subtypes,
      String group,
      Fallback fallback,
      Force force,
      boolean captureArgument,
      boolean histogram,
      boolean leaves,
      List<Rule> rules,
      Position position) {
    this(
        name,
        classGlob,
        methodGlob,
        subtypes,
        group,
        fallback,
        force,
        captureArgument,
        histogram,
        leaves,
        rules,
        position,
        List.of());
  }

  /** An automatic target: put up by the auto-fence, not named in the rules file. */
  public boolean automatic() {
    return !members.isEmpty();
  }

  /** A target with the default {@code histogram}: only a target without rules is timed. */
  public Target(
      String name,
      String classGlob,
      String methodGlob,
      boolean subtypes,
      String group,
      Fallback fallback,
      Force force,
      boolean captureArgument,
      List<Rule> rules,
      Position position) {
    this(
        name,
        classGlob,
        methodGlob,
        subtypes,
        group,
        fallback,
        force,
        captureArgument,
        rules.isEmpty(),
        false,
        rules,
        position);
  }

  /** This target with every position blanked: equal when only the file's layout changed. */
  public Target withoutPositions() {
    java.util.List<Rule> rs = new java.util.ArrayList<>();
    for (Rule r : rules) {
      rs.add(new Rule(r.name(), r.condition(), r.action(), r.mode(), null));
    }
    return new Target(
        name,
        classGlob,
        methodGlob,
        subtypes,
        group,
        fallback,
        force,
        captureArgument,
        histogram,
        leaves,
        rs,
        null,
        members);
  }

  /** The name of the per-thread depth counter: the group if set, else the target itself. */
  public String depthCounter() {
    return group != null ? "group:" + group : "target:" + name;
  }

  public enum Force {
    CLOSED,
    OPEN
  }
}
