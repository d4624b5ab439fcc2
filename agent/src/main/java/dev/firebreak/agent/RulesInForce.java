package dev.firebreak.agent;

import dev.firebreak.admin.AdminEndpoints;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.json.Json;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.secrets.SecretFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The rules file's life in the agent: which file, the rule set in force with its text (for {@code
 * GET /rules}) and admin token, reading the file at start and on reload, and the reload counts.
 * What a new rule set does to the engine, the sinks and the instrumentation is {@link
 * AgentRuntime}'s; this class only reads, decides and remembers.
 *
 * <p>Fields are volatile: the evaluator, /metrics and the admin endpoints read them; the agent's
 * start thread, the rules watcher and admin reloads write them under {@link AgentRuntime}'s lock.
 */
final class RulesInForce implements Supplier<RuleSet> {
  /** What a reload read: a rule set to put in force, or the answer to give without one. */
  record Read(RuleSet next, AdminEndpoints.Result answer) {}

  private final Map<String, LongAdder> reloads = new ConcurrentHashMap<>();
  private volatile String path;
  private volatile RuleSet rules;
  private volatile String text;
  private volatile SecretFile adminToken;

  RulesInForce(String path) {
    this.path = path;
  }

  String path() {
    return path;
  }

  /** Another file (attach with new rules), or none (detached: null). */
  void path(String p) {
    path = p;
  }

  /** {@link #rules()}: what the instrumenter and /metrics read, with no lambda to bootstrap. */
  @Override
  public RuleSet get() {
    return rules();
  }

  RuleSet rules() {
    return rules;
  }

  /** The file as it was read for the rules in force, or null if it changed since. */
  String text() {
    return text;
  }

  SecretFile adminToken() {
    return adminToken;
  }

  /** {@code firebreak_rules_reloads_total} by result. */
  Map<String, LongAdder> reloads() {
    return reloads;
  }

  /** Remembers {@code next} as the rules in force, with its file's text and its admin token. */
  void accept(RuleSet next) {
    rules = next;
    adminToken = adminToken(next);
    text = readText(next);
  }

  /** The same file's rules with other automatic fences: its text and token stay. */
  void acceptFences(RuleSet next) {
    rules = next;
  }

  /**
   * The rules at start: from the bytes premain read (the class gate expects what they name), or
   * from the file. Null, with one line saying why, when there are none.
   */
  RuleSet readInitial(byte[] bytes) {
    return parseInitial(path, bytes);
  }

  /**
   * {@link #readInitial} before the runtime exists: the agent's start thread parses while another
   * thread prepares the rest (see FirebreakAgent). Reports what is wrong; null if nothing loads.
   */
  static RuleSet parseInitial(String p, byte[] bytes) {
    if (p == null) {
      AgentErrors.report(
          "rules", "no rules file given (rules=PATH or FIREBREAK_RULES); nothing is watched");
      return null;
    }
    try {
      return bytes != null
          ? RulesParser.parse(String.valueOf(Path.of(p)), bytes)
          : RulesParser.parse(Path.of(p));
    } catch (RulesException e) {
      AgentErrors.report("rules", "rules not loaded, nothing is watched: " + summary(p, e));
      return null;
    } catch (RuntimeException e) {
      AgentErrors.report(
          "rules", "rules not loaded, nothing is watched: " + p + ": " + AgentErrors.describe(e));
      return null;
    }
  }

  /**
   * Reads the file for a reload. A file that fails validation is counted and reported (the rules in
   * force stay); an identical one needs nothing. Otherwise {@link Read#next()} is the new rule set.
   */
  Read readForReload() {
    String p = path;
    if (p == null) {
      return new Read(
          null,
          new AdminEndpoints.Result(
              false, "{\"result\":\"failure\",\"error\":\"no rules file (detached)\"}"));
    }
    RuleSet next;
    try {
      next = RulesParser.parse(Path.of(p));
    } catch (RulesException e) {
      count("failure");
      RuleSet current = rules;
      String kept =
          current == null
              ? "no rules are in force"
              : "the rules in force stay (sha256 " + shortSha(current) + ")";
      AgentErrors.log("rules reload failed, " + kept + ": " + summary(e));
      return new Read(
          null,
          new AdminEndpoints.Result(
              false,
              "{\"result\":\"failure\",\"error\":"
                  + Json.quote(e.errors().get(0).toString())
                  + "}"));
    } catch (RuntimeException e) {
      count("failure");
      AgentErrors.log("rules reload failed, the rules in force stay: " + AgentErrors.describe(e));
      return new Read(
          null,
          new AdminEndpoints.Result(
              false,
              "{\"result\":\"failure\",\"error\":" + Json.quote(AgentErrors.describe(e)) + "}"));
    }
    RuleSet old = rules;
    if (old != null && old.sha256().equals(next.sha256())) {
      return new Read(
          null,
          new AdminEndpoints.Result(
              true, "{\"result\":\"unchanged\",\"sha256\":\"" + next.sha256() + "\"}"));
    }
    return new Read(next, null);
  }

  void count(String result) {
    reloads.computeIfAbsent(result, k -> new LongAdder()).increment();
  }

  static String shortSha(RuleSet rs) {
    return rs.sha256().substring(0, Math.min(12, rs.sha256().length()));
  }

  private String summary(RulesException e) {
    return summary(path, e);
  }

  private static String summary(String path, RulesException e) {
    int more = e.errors().size() - 1;
    return e.errors().get(0)
        + (more > 0
            ? " (and " + more + " more; run: java -jar firebreak-agent.jar validate " + path + ")"
            : "");
  }

  private static String readText(RuleSet rs) {
    try {
      byte[] bytes = Files.readAllBytes(Path.of(rs.source()));
      return RulesParser.sha256(bytes).equals(rs.sha256())
          ? new String(bytes, StandardCharsets.UTF_8)
          : null;
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Read once now, so that a problem with the file is reported at once; then at every admin
   * request.
   */
  private static SecretFile adminToken(RuleSet rs) {
    String file = rs.admin().tokenFile();
    SecretFile token =
        file == null
            ? null
            : new SecretFile(file, "admin token file", "admin", "the admin endpoints stay off");
    if (token != null) {
      token.digest();
    }
    return token;
  }
}
