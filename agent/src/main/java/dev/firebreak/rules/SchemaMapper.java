package dev.firebreak.rules;

import dev.firebreak.secrets.SecretFile;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Maps the node tree of one rules file to a {@link RuleSet} (SPEC section 2), reporting every
 * problem with the position of the node it is about. Only reads: the tree may share nodes
 * (aliases).
 */
final class SchemaMapper {
  static final List<String> TOP_KEYS =
      List.of(
          "version",
          "metrics",
          "alerts",
          "reload",
          "admin",
          "kill-switch",
          "mode",
          "targets",
          "auto-fence");
  static final List<String> AUTO_FENCE_KEYS =
      List.of("packages", "depth", "action", "fallback", "mode", "max-fences");

  /**
   * Where no fence may be put: the JDK's and the agent's own packages (the net and the fences run
   * code of these on every call).
   */
  static final List<String> NO_FENCE =
      List.of("java.", "javax.", "jdk.", "sun.", "com.sun.", "dev.firebreak.", "net.bytebuddy.");

  static final List<String> METRICS_KEYS =
      List.of("host", "port", "tls", "basic-auth", "methods-per-target");
  static final List<String> TLS_KEYS = List.of("keystore", "password-file");
  static final List<String> BASIC_AUTH_KEYS = List.of("user", "password-file");
  static final List<String> ALERTS_KEYS =
      List.of("log", "alertmanager", "webhook", "repeat-interval", "labels");
  static final List<String> RELOAD_KEYS = List.of("watch", "interval");
  static final List<String> ADMIN_KEYS = List.of("token-file");
  static final List<String> KILL_SWITCH_KEYS = List.of("open-for", "half-open-calls");
  static final List<String> TARGET_KEYS =
      List.of(
          "name",
          "class",
          "method",
          "subtypes",
          "group",
          "fallback",
          "force",
          "capture-argument",
          "histogram",
          "leaves",
          "rules");
  static final List<String> CONDITIONS =
      List.of("depth", "latency", "duration", "calls-per-invocation");
  static final List<String> RULE_KEYS =
      List.of("name", "depth", "latency", "duration", "calls-per-invocation", "action", "mode");

  /** A latency window's bounds: the evaluator keeps at most 12 sub-windows of it in memory. */
  static final Duration MIN_WINDOW = Duration.ofSeconds(1);

  static final Duration MAX_WINDOW = Duration.ofHours(1);
  static final List<String> LATENCY_KEYS = List.of("percentile", "above", "window");
  static final List<String> CALLS_KEYS = List.of("limit", "of");
  static final List<String> MODES = List.of("enforce", "observe");
  static final List<String> ACTIONS = List.of("alert", "limit", "trip");
  static final List<String> FORCES = List.of("closed", "open");
  static final List<String> FALLBACKS =
      List.of("throw", "return-null", "return-default", "return-arg:N", "return-value:TEXT");

  private static final Pattern NAME = Pattern.compile("[a-z0-9-]+");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern DECIMAL = Pattern.compile("[-+]?(0|[1-9][0-9]*)");
  private static final String DURATION = "a duration like 250ms, 30s, 5m or 1h";
  private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  /** Name comparisons spent on "did you mean" hints for {@code of}, per file. */
  private static final long MAX_SUGGESTION_WORK = 200_000;

  private final String file;
  private final String sha256;
  private final List<RuleError> errors;
  private final Set<Mark> reported;

  /** Names seen, for uniqueness and for the targets named by {@code of}. */
  private final Map<String, Node> targetNames = new HashMap<>();

  private final Map<String, Node> ruleNames = new HashMap<>();
  private final List<OfReference> ofReferences = new ArrayList<>();

  /** Mappings with a merge key: their missing keys are a consequence, not a second mistake. */
  private final Set<MappingNode> merged = Collections.newSetFromMap(new IdentityHashMap<>());

  private record OfReference(String of, Node node, String path, String ownTarget) {}

  SchemaMapper(String file, String sha256, List<RuleError> errors, Set<Mark> reported) {
    this.file = file;
    this.sha256 = sha256;
    this.errors = errors;
    this.reported = reported;
  }

  /** The rule set, or null when the root is not even a mapping; check the error list either way. */
  RuleSet map(Node root) {
    if (!(root instanceof MappingNode top)) {
      err(root, "", "expected a mapping with 'version: 1', found " + describe(root));
      return null;
    }
    Map<String, NodeTuple> f = fields(top, "", TOP_KEYS);
    NodeTuple v = f.get("version");
    if (v == null) {
      missing(top, "", "missing required key 'version', expected 'version: 1'");
    } else {
      BigInteger version = integer(v.getValueNode(), "version", "version 1");
      if (version != null && !version.equals(BigInteger.ONE)) {
        err(
            v.getValueNode(),
            "version",
            "expected version 1, found "
                + version
                + "; this agent reads version 1 rules files only");
        return null;
      }
    }
    RuleSet.MetricsConfig metrics = metrics(f.get("metrics"));
    RuleSet.AlertsConfig alerts = alerts(f.get("alerts"));
    RuleSet.ReloadConfig reload = reload(f.get("reload"));
    RuleSet.AdminConfig admin = admin(f.get("admin"));
    RuleSet.KillSwitchConfig killSwitch = killSwitch(f.get("kill-switch"));
    Mode mode = Mode.ENFORCE;
    if (f.containsKey("mode")) {
      String m = choice(f.get("mode").getValueNode(), "mode", MODES);
      mode = m == null ? null : Mode.valueOf(m.toUpperCase(Locale.ROOT));
    }
    List<Target> targets = new ArrayList<>();
    NodeTuple t = f.get("targets");
    if (t != null) { // optional: a file without targets watches nothing (SPEC default [])
      SequenceNode list = list(t.getValueNode(), "targets");
      if (list != null) {
        for (int i = 0; i < list.getValue().size(); i++) {
          Target target = target(list.getValue().get(i), "targets[" + i + "]");
          if (target != null) {
            targets.add(target);
          }
        }
      }
    }
    RuleSet.AutoFence autoFence = autoFence(f.get("auto-fence"));
    List<String> knownTargets = List.copyOf(targetNames.keySet());
    long suggestionWork = 0;
    for (OfReference ref : ofReferences) {
      if (ref.of().equals(ref.ownTarget())) {
        err(
            ref.node(),
            ref.path(),
            "expected another target than the rule's own, found " + Text.name(ref.of()));
      } else if (!targetNames.containsKey(ref.of())) {
        // "did you mean" compares with every target: bounded, so that thousands of bad
        // references to thousands of targets stay linear (the hints stop, the errors do not)
        suggestionWork += knownTargets.size();
        String hint =
            suggestionWork <= MAX_SUGGESTION_WORK ? suggestion(ref.of(), knownTargets) : "";
        err(
            ref.node(),
            ref.path(),
            "expected the name of a target in this file, found " + Text.name(ref.of()) + hint);
      }
    }
    return new RuleSet(
        1, file, sha256, metrics, alerts, reload, admin, killSwitch, mode, targets, autoFence);
  }

  // ---- sections ----

  private RuleSet.MetricsConfig metrics(NodeTuple t) {
    RuleSet.MetricsConfig d = RuleSet.MetricsConfig.DEFAULT;
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "metrics");
    if (m == null) {
      return d;
    }
    Map<String, NodeTuple> f = fields(m, "metrics", METRICS_KEYS);
    String host =
        f.containsKey("host") ? string(f.get("host").getValueNode(), "metrics.host") : d.host();
    int port = d.port();
    if (f.containsKey("port")) {
      BigInteger p =
          integer(f.get("port").getValueNode(), "metrics.port", "a port from 0 to 65535");
      if (p != null && (p.signum() < 0 || p.compareTo(BigInteger.valueOf(65535)) > 0)) {
        err(
            f.get("port").getValueNode(),
            "metrics.port",
            "expected a port from 0 to 65535, found " + p);
      } else if (p != null) {
        port = p.intValue();
      }
    }
    RuleSet.Tls tls = null;
    if (f.containsKey("tls")) {
      MappingNode tm = mapping(f.get("tls").getValueNode(), "metrics.tls");
      if (tm != null) {
        Map<String, NodeTuple> tf = fields(tm, "metrics.tls", TLS_KEYS);
        String keystore =
            requiredFile(
                tm,
                tf,
                "metrics.tls",
                "keystore",
                "a keystore file (PKCS12 or JKS) with the server's key and certificate",
                false);
        String password =
            requiredFile(
                tm,
                tf,
                "metrics.tls",
                "password-file",
                "a file holding the keystore's password",
                true);
        tls = keystore == null || password == null ? null : new RuleSet.Tls(keystore, password);
      }
    }
    RuleSet.BasicAuth basicAuth = null;
    if (f.containsKey("basic-auth")) {
      MappingNode bm = mapping(f.get("basic-auth").getValueNode(), "metrics.basic-auth");
      if (bm != null) {
        Map<String, NodeTuple> bf = fields(bm, "metrics.basic-auth", BASIC_AUTH_KEYS);
        String user = null;
        if (!bf.containsKey("user")) {
          missing(
              bm,
              "metrics.basic-auth",
              "missing required key 'user', expected the user name Prometheus sends");
        } else {
          Node u = bf.get("user").getValueNode();
          user = string(u, "metrics.basic-auth.user");
          if (user != null && user.indexOf(':') >= 0) {
            err(
                u,
                "metrics.basic-auth.user",
                "expected a user name without ':', found " + Text.quote(user));
            user = null;
          }
        }
        String password =
            requiredFile(
                bm, bf, "metrics.basic-auth", "password-file", "a file holding the password", true);
        basicAuth = user == null || password == null ? null : new RuleSet.BasicAuth(user, password);
      }
    }
    int perTarget = d.methodsPerTarget();
    if (f.containsKey("methods-per-target")) {
      Node n = f.get("methods-per-target").getValueNode();
      BigInteger p = integer(n, "metrics.methods-per-target", "a number from 1 to 100000");
      if (p != null && (p.signum() <= 0 || p.compareTo(BigInteger.valueOf(100_000)) > 0)) {
        err(n, "metrics.methods-per-target", "expected a number from 1 to 100000, found " + p);
      } else if (p != null) {
        perTarget = p.intValue();
      }
    }
    return new RuleSet.MetricsConfig(host, port, tls, basicAuth, perTarget);
  }

  /**
   * A required key naming a file that must exist now; a file holding a secret must also be private
   * to its owner. Checked here so that {@code validate} and a reload report it with its line and
   * column, like any other mistake.
   */
  private String requiredFile(
      MappingNode m,
      Map<String, NodeTuple> f,
      String path,
      String key,
      String expected,
      boolean secret) {
    if (!f.containsKey(key)) {
      missing(m, path, "missing required key '" + key + "', expected " + expected);
      return null;
    }
    Node node = f.get(key).getValueNode();
    String name = string(node, path + "." + key);
    if (name == null) {
      return null;
    }
    String problem;
    try {
      Path file = Path.of(name);
      if (!Files.isRegularFile(file)) {
        problem =
            Files.exists(file)
                ? "found " + Text.quote(name) + ", which is not a regular file"
                : "found no file " + Text.quote(name);
      } else if (!Files.isReadable(file)) {
        problem = "found " + Text.quote(name) + ", which this user cannot read";
      } else {
        String loose = secret ? SecretFile.looseMode(file) : null;
        problem =
            loose == null
                ? null
                : "found "
                    + Text.quote(name)
                    + " with mode "
                    + loose
                    + ": a secret only its owner may access (run: chmod 600 "
                    + name
                    + ")";
      }
    } catch (IOException | RuntimeException e) {
      problem =
          "found "
              + Text.quote(name)
              + ", which cannot be checked ("
              + e.getClass().getSimpleName()
              + ")";
    }
    if (problem != null) {
      err(node, path + "." + key, "expected " + expected + ", " + problem);
      return null;
    }
    return name;
  }

  private RuleSet.AlertsConfig alerts(NodeTuple t) {
    RuleSet.AlertsConfig d = RuleSet.AlertsConfig.DEFAULT;
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "alerts");
    if (m == null) {
      return d;
    }
    Map<String, NodeTuple> f = fields(m, "alerts", ALERTS_KEYS);
    String log = f.containsKey("log") ? string(f.get("log").getValueNode(), "alerts.log") : d.log();
    String alertmanager =
        f.containsKey("alertmanager")
            ? url(f.get("alertmanager").getValueNode(), "alerts.alertmanager")
            : null;
    String webhook =
        f.containsKey("webhook") ? url(f.get("webhook").getValueNode(), "alerts.webhook") : null;
    Duration repeat =
        f.containsKey("repeat-interval")
            ? duration(f.get("repeat-interval").getValueNode(), "alerts.repeat-interval")
            : d.repeatInterval();
    Map<String, String> labels = new LinkedHashMap<>();
    if (f.containsKey("labels")) {
      MappingNode lm = mapping(f.get("labels").getValueNode(), "alerts.labels");
      if (lm != null) {
        for (Map.Entry<String, NodeTuple> e : fields(lm, "alerts.labels", null).entrySet()) {
          String name = e.getKey();
          if (!LABEL.matcher(name).matches()) {
            err(
                e.getValue().getKeyNode(),
                "alerts.labels",
                "expected a label name of letters, digits and '_' not starting with a digit, found "
                    + Text.quote(name));
          }
          String value = string(e.getValue().getValueNode(), "alerts.labels." + name);
          if (value != null) {
            labels.put(name, value);
          }
        }
      }
    }
    return new RuleSet.AlertsConfig(log, alertmanager, webhook, repeat, labels);
  }

  private RuleSet.ReloadConfig reload(NodeTuple t) {
    RuleSet.ReloadConfig d = RuleSet.ReloadConfig.DEFAULT;
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "reload");
    if (m == null) {
      return d;
    }
    Map<String, NodeTuple> f = fields(m, "reload", RELOAD_KEYS);
    Boolean watch =
        f.containsKey("watch")
            ? bool(f.get("watch").getValueNode(), "reload.watch")
            : Boolean.valueOf(d.watch());
    Duration interval =
        f.containsKey("interval")
            ? duration(f.get("interval").getValueNode(), "reload.interval")
            : d.interval();
    return new RuleSet.ReloadConfig(watch == null ? d.watch() : watch, interval);
  }

  private RuleSet.AdminConfig admin(NodeTuple t) {
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "admin");
    if (m == null) {
      return RuleSet.AdminConfig.DEFAULT;
    }
    Map<String, NodeTuple> f = fields(m, "admin", ADMIN_KEYS);
    String tokenFile =
        f.containsKey("token-file")
            ? string(f.get("token-file").getValueNode(), "admin.token-file")
            : null;
    return new RuleSet.AdminConfig(tokenFile);
  }

  private RuleSet.KillSwitchConfig killSwitch(NodeTuple t) {
    RuleSet.KillSwitchConfig d = RuleSet.KillSwitchConfig.DEFAULT;
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "kill-switch");
    if (m == null) {
      return d;
    }
    Map<String, NodeTuple> f = fields(m, "kill-switch", KILL_SWITCH_KEYS);
    Duration openFor =
        f.containsKey("open-for")
            ? duration(f.get("open-for").getValueNode(), "kill-switch.open-for")
            : d.openFor();
    int halfOpen = d.halfOpenCalls();
    if (f.containsKey("half-open-calls")) {
      BigInteger n =
          positive(f.get("half-open-calls").getValueNode(), "kill-switch.half-open-calls", INT_MAX);
      halfOpen = n == null ? halfOpen : n.intValue();
    }
    return new RuleSet.KillSwitchConfig(openFor, halfOpen);
  }

  private RuleSet.AutoFence autoFence(NodeTuple t) {
    MappingNode m = t == null ? null : mapping(t.getValueNode(), "auto-fence");
    if (m == null) {
      return null;
    }
    Map<String, NodeTuple> f = fields(m, "auto-fence", AUTO_FENCE_KEYS);
    List<String> packages = new ArrayList<>();
    if (!f.containsKey("packages")) {
      missing(
          m,
          "auto-fence",
          "missing required key 'packages', expected a list of class globs like [\"com.acme.**\"]");
    } else {
      SequenceNode list = list(f.get("packages").getValueNode(), "auto-fence.packages");
      if (list != null && list.getValue().isEmpty()) {
        err(
            list,
            "auto-fence.packages",
            "expected at least one class glob like \"com.acme.**\", found an empty list");
      }
      for (int i = 0; list != null && i < list.getValue().size(); i++) {
        Node n = list.getValue().get(i);
        String path = "auto-fence.packages[" + i + "]";
        String g = glob(n, path, Glob.Kind.CLASS);
        String problem = g == null ? null : fenceProblem(g);
        if (problem != null) {
          err(n, path, problem);
        } else if (g != null) {
          packages.add(g);
        }
      }
    }
    int depth = RuleSet.AutoFence.DEFAULT_DEPTH;
    if (f.containsKey("depth")) {
      BigInteger n = positive(f.get("depth").getValueNode(), "auto-fence.depth", INT_MAX);
      depth = n == null ? depth : n.intValue();
    }
    Action action = Action.LIMIT;
    if (f.containsKey("action")) {
      String s = choice(f.get("action").getValueNode(), "auto-fence.action", ACTIONS);
      action = s == null ? action : Action.valueOf(s.toUpperCase(Locale.ROOT));
    }
    Fallback fallback = new Fallback.Throw();
    if (f.containsKey("fallback")) {
      fallback = fallback(f.get("fallback").getValueNode(), "auto-fence.fallback");
    }
    Mode mode = null;
    if (f.containsKey("mode")) {
      String s = choice(f.get("mode").getValueNode(), "auto-fence.mode", MODES);
      mode = s == null ? null : Mode.valueOf(s.toUpperCase(Locale.ROOT));
    }
    int maxFences = RuleSet.AutoFence.DEFAULT_MAX_FENCES;
    if (f.containsKey("max-fences")) {
      BigInteger n = positive(f.get("max-fences").getValueNode(), "auto-fence.max-fences", INT_MAX);
      maxFences = n == null ? maxFences : n.intValue();
    }
    return new RuleSet.AutoFence(packages, depth, action, fallback, mode, maxFences, position(m));
  }

  /**
   * Why no fence may be put where {@code glob} reaches, or null: the glob must name at least one
   * package segment literally, outside the JDK's and the agent's own packages.
   */
  static String fenceProblem(String glob) {
    String prefix = Glob.forClass(glob).literalPrefix();
    if (!prefix.contains(".")) {
      return "expected a class glob that names its first package literally, like"
          + " \"com.acme.**\", found "
          + Text.quote(glob)
          + " (it could reach into the JDK)";
    }
    for (String p : NO_FENCE) {
      // a broader glob (com.**) may stay: the net itself never enters these packages
      if (prefix.startsWith(p)) {
        return "expected a class glob outside "
            + p
            + "* (no fence is ever put into the JDK or the agent), found "
            + Text.quote(glob);
      }
    }
    return null;
  }

  /** The required {@code name} of a target or rule, reported when missing, malformed or taken. */
  private String uniqueName(
      MappingNode m, Map<String, NodeTuple> f, String path, Map<String, Node> seen, String kind) {
    if (!f.containsKey("name")) {
      missing(m, path, "missing required key 'name'");
      return null;
    }
    Node n = f.get("name").getValueNode();
    String name = name(n, path + ".name");
    if (name != null) {
      Node first = seen.putIfAbsent(name, n);
      if (first != null) {
        err(
            n,
            path + ".name",
            "duplicate "
                + kind
                + " name "
                + Text.name(name)
                + " (first at "
                + where(first, n)
                + ")");
      }
    }
    return name;
  }

  private Target target(Node node, String path) {
    MappingNode m = mapping(node, path);
    if (m == null) {
      return null;
    }
    Map<String, NodeTuple> f = fields(m, path, TARGET_KEYS);
    String name = uniqueName(m, f, path, targetNames, "target");
    String classGlob = null;
    if (!f.containsKey("class")) {
      missing(
          m, path, "missing required key 'class', expected a class glob like com.acme.*Service");
    } else {
      classGlob = glob(f.get("class").getValueNode(), path + ".class", Glob.Kind.CLASS);
    }
    String methodGlob =
        f.containsKey("method")
            ? glob(f.get("method").getValueNode(), path + ".method", Glob.Kind.METHOD)
            : "*";
    boolean subtypes =
        f.containsKey("subtypes")
            && Boolean.TRUE.equals(bool(f.get("subtypes").getValueNode(), path + ".subtypes"));
    String group =
        f.containsKey("group") ? name(f.get("group").getValueNode(), path + ".group") : null;
    Fallback fallback = new Fallback.Throw();
    if (f.containsKey("fallback")) {
      fallback = fallback(f.get("fallback").getValueNode(), path + ".fallback");
    }
    Target.Force force = Target.Force.CLOSED;
    if (f.containsKey("force")) {
      String s = choice(f.get("force").getValueNode(), path + ".force", FORCES);
      force = s == null ? null : Target.Force.valueOf(s.toUpperCase(Locale.ROOT));
    }
    boolean capture =
        f.containsKey("capture-argument")
            && Boolean.TRUE.equals(
                bool(f.get("capture-argument").getValueNode(), path + ".capture-argument"));
    List<Rule> rules = new ArrayList<>();
    // optional: a target without rules is watched for its metrics and can be named by 'of:'
    if (f.containsKey("rules")) {
      SequenceNode list = list(f.get("rules").getValueNode(), path + ".rules");
      if (list != null) {
        for (int i = 0; i < list.getValue().size(); i++) {
          Rule rule = rule(list.getValue().get(i), path + ".rules[" + i + "]", name);
          if (rule != null) {
            rules.add(rule);
          }
        }
      }
    }
    // by default only a target kept for its metrics alone (no rules) is timed without a latency or
    // duration rule: a depth or budget guard reads no clock
    boolean histogram =
        f.containsKey("histogram")
            ? Boolean.TRUE.equals(bool(f.get("histogram").getValueNode(), path + ".histogram"))
            : rules.isEmpty();
    boolean leaves =
        f.containsKey("leaves")
            && Boolean.TRUE.equals(bool(f.get("leaves").getValueNode(), path + ".leaves"));
    return new Target(
        name,
        classGlob,
        methodGlob,
        subtypes,
        group,
        fallback,
        force,
        capture,
        histogram,
        leaves,
        rules,
        position(m));
  }

  private Rule rule(Node node, String path, String targetName) {
    MappingNode m = mapping(node, path);
    if (m == null) {
      return null;
    }
    Map<String, NodeTuple> f = fields(m, path, RULE_KEYS);
    String name = uniqueName(m, f, path, ruleNames, "rule");
    String conditionKey = null;
    for (Map.Entry<String, NodeTuple> e : f.entrySet()) {
      if (!CONDITIONS.contains(e.getKey())) {
        continue;
      }
      if (conditionKey == null) {
        conditionKey = e.getKey();
      } else {
        err(
            e.getValue().getKeyNode(),
            path,
            "expected exactly one condition, found both "
                + Text.name(conditionKey)
                + " and "
                + Text.name(e.getKey()));
      }
    }
    Rule.Condition condition = null;
    if (conditionKey == null) {
      missing(m, path, "missing condition, expected exactly one of " + Text.oneOf(CONDITIONS));
    } else {
      condition =
          condition(
              conditionKey,
              f.get(conditionKey).getValueNode(),
              path + "." + conditionKey,
              targetName);
    }
    Action action = null;
    if (!f.containsKey("action")) {
      missing(m, path, "missing required key 'action', expected " + Text.oneOf(ACTIONS));
    } else {
      Node a = f.get("action").getValueNode();
      String s = choice(a, path + ".action", ACTIONS);
      action = s == null ? null : Action.valueOf(s.toUpperCase(Locale.ROOT));
      if (action == Action.LIMIT && "latency".equals(conditionKey)) {
        err(
            a,
            path + ".action",
            "expected alert or trip for a latency rule, found 'limit'"
                + " (a latency rule has no single offending call to short-circuit)");
      }
    }
    Mode mode = null;
    if (f.containsKey("mode")) {
      String s = choice(f.get("mode").getValueNode(), path + ".mode", MODES);
      mode = s == null ? null : Mode.valueOf(s.toUpperCase(Locale.ROOT));
    }
    return new Rule(name, condition, action, mode, position(m));
  }

  private Rule.Condition condition(String key, Node value, String path, String targetName) {
    switch (key) {
      case "depth":
        {
          BigInteger n = positive(value, path, INT_MAX);
          return n == null ? null : new Rule.Depth(n.intValue());
        }
      case "duration":
        {
          Duration d = duration(value, path);
          return d == null ? null : new Rule.Stuck(d);
        }
      case "latency":
        {
          MappingNode m = mapping(value, path);
          if (m == null) {
            return null;
          }
          Map<String, NodeTuple> f = fields(m, path, LATENCY_KEYS);
          Double percentile = null;
          if (!f.containsKey("percentile")) {
            missing(
                m,
                path,
                "missing required key 'percentile', expected a number above 0 and at most 100");
          } else {
            percentile = percentile(f.get("percentile").getValueNode(), path + ".percentile");
          }
          Duration above = null;
          if (!f.containsKey("above")) {
            missing(m, path, "missing required key 'above', expected " + DURATION);
          } else {
            above = duration(f.get("above").getValueNode(), path + ".above");
          }
          Duration window = null;
          if (!f.containsKey("window")) {
            missing(m, path, "missing required key 'window', expected " + DURATION);
          } else {
            window = duration(f.get("window").getValueNode(), path + ".window");
            if (window != null
                && (window.compareTo(MIN_WINDOW) < 0 || window.compareTo(MAX_WINDOW) > 0)) {
              err(
                  f.get("window").getValueNode(),
                  path + ".window",
                  "expected a window from 1s to 1h, found " + Durations.format(window));
              window = null;
            }
          }
          return percentile == null || above == null || window == null
              ? null
              : new Rule.Latency(percentile, above, window);
        }
      default:
        {
          MappingNode m = mapping(value, path);
          if (m == null) {
            return null;
          }
          Map<String, NodeTuple> f = fields(m, path, CALLS_KEYS);
          BigInteger limit = null;
          if (!f.containsKey("limit")) {
            missing(m, path, "missing required key 'limit', expected a positive integer");
          } else {
            limit = positive(f.get("limit").getValueNode(), path + ".limit", LONG_MAX);
          }
          String of = null;
          if (!f.containsKey("of")) {
            missing(
                m, path, "missing required key 'of', expected the name of a target in this file");
          } else {
            Node n = f.get("of").getValueNode();
            of = name(n, path + ".of");
            if (of != null) {
              ofReferences.add(new OfReference(of, n, path + ".of", targetName));
            }
          }
          return limit == null || of == null
              ? null
              : new Rule.CallsPerInvocation(limit.longValue(), of);
        }
    }
  }

  private Fallback fallback(Node node, String path) {
    String s = string(node, path);
    if (s == null) {
      return null;
    }
    switch (s) {
      case "throw":
        return new Fallback.Throw();
      case "return-null":
        return new Fallback.ReturnNull();
      case "return-default":
        return new Fallback.ReturnDefault();
      default:
        break;
    }
    if (s.startsWith("return-arg:")) {
      String n = s.substring("return-arg:".length());
      if (n.matches("[0-9]{1,3}") && Integer.parseInt(n) <= 255) {
        return new Fallback.ReturnArg(Integer.parseInt(n));
      }
      err(
          node,
          path,
          "expected return-arg:N with N a parameter index from 0 to 255, found " + Text.quote(s));
      return null;
    }
    if (s.startsWith("return-value:")) {
      String text = s.substring("return-value:".length());
      if (!text.isEmpty()) {
        return new Fallback.ReturnValue(text);
      }
      err(node, path, "expected return-value:TEXT with a non-empty TEXT, found " + Text.quote(s));
      return null;
    }
    err(
        node,
        path,
        "expected "
            + Text.oneOf(FALLBACKS)
            + ", found "
            + Text.quote(s)
            + suggestion(s, List.of("throw", "return-null", "return-default")));
    return null;
  }

  // ---- mappings and keys ----

  /**
   * The fields of a mapping by key, first occurrence only; reports keys that are not plain names,
   * duplicates, and keys not in {@code legal} (null: any key is legal).
   */
  private Map<String, NodeTuple> fields(MappingNode m, String path, List<String> legal) {
    Map<String, NodeTuple> fields = new LinkedHashMap<>();
    for (NodeTuple tuple : m.getValue()) {
      Node k = tuple.getKeyNode();
      if (!(k instanceof ScalarNode key)) {
        err(k, path, "expected a key name, found " + describe(k));
        continue;
      }
      if (key.getTag().equals(Tag.MERGE)) {
        merged.add(m);
        err(
            k,
            path,
            "expected a key name, found the merge key '<<' (not supported: write the keys out)");
        continue;
      }
      String name = key.getValue();
      String qualified = path.isEmpty() ? name : path + "." + name;
      if (legal != null && !legal.contains(name)) {
        String hint = suggestion(name, legal);
        err(
            k,
            "",
            "unknown key "
                + Text.name(qualified)
                + (hint.isEmpty() ? ", expected one of: " + String.join(", ", legal) : hint));
        continue;
      }
      NodeTuple first = fields.putIfAbsent(name, tuple);
      if (first != null) {
        err(
            k,
            "",
            "duplicate key "
                + Text.name(qualified)
                + " (first at "
                + where(first.getKeyNode(), k)
                + ")");
      }
    }
    return fields;
  }

  private static String suggestion(String word, List<String> candidates) {
    String s = Text.suggest(word, candidates);
    return s == null ? "" : " (did you mean " + Text.name(s) + "?)";
  }

  // ---- typed values; each reports and returns null when the node is not what is expected ----

  private MappingNode mapping(Node node, String path) {
    if (node instanceof MappingNode m) {
      return m;
    }
    err(node, path, "expected a mapping, found " + describe(node));
    return null;
  }

  private SequenceNode list(Node node, String path) {
    if (node instanceof SequenceNode s) {
      return s;
    }
    err(node, path, "expected a list, found " + describe(node));
    return null;
  }

  /** Any plain scalar as text: {@code log: off} is the text "off", not a boolean. */
  private String string(Node node, String path) {
    if (node instanceof ScalarNode s) {
      Tag tag = s.getTag();
      if (tag.equals(Tag.STR)
          || tag.equals(Tag.INT)
          || tag.equals(Tag.FLOAT)
          || tag.equals(Tag.BOOL)
          || tag.equals(Tag.TIMESTAMP)) {
        if (s.getValue().isEmpty()) {
          err(node, path, "expected a non-empty string, found \"\"");
          return null;
        }
        return s.getValue();
      }
    }
    err(node, path, "expected a string, found " + describe(node));
    return null;
  }

  /** A string matching [a-z0-9-]+. */
  private String name(Node node, String path) {
    String s = string(node, path);
    if (s != null && !NAME.matcher(s).matches()) {
      err(
          node,
          path,
          "expected a name of lowercase letters, digits and '-', found " + Text.quote(s));
      return null;
    }
    return s;
  }

  private String glob(Node node, String path, Glob.Kind kind) {
    String s = string(node, path);
    if (s == null) {
      return null;
    }
    String problem = Glob.problem(s, kind);
    if (problem != null) {
      err(node, path, problem);
      return null;
    }
    return s;
  }

  private String url(Node node, String path) {
    String s = string(node, path);
    if (s == null) {
      return null;
    }
    try {
      URI uri = new URI(s);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
        return s;
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    err(node, path, "expected an http:// or https:// URL, found " + Text.quote(Text.redactUrl(s)));
    return null;
  }

  private String choice(Node node, String path, List<String> words) {
    if (node instanceof ScalarNode s
        && !s.getTag().equals(Tag.NULL)
        && words.contains(s.getValue())) {
      return s.getValue();
    }
    String hint = node instanceof ScalarNode s ? suggestion(s.getValue(), words) : "";
    err(node, path, "expected " + Text.oneOf(words) + ", found " + describe(node) + hint);
    return null;
  }

  private Boolean bool(Node node, String path) {
    if (node instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
      String v = s.getValue().toLowerCase(Locale.ROOT);
      return v.equals("true") || v.equals("yes") || v.equals("on");
    }
    err(node, path, "expected true or false, found " + describe(node));
    return null;
  }

  /** A YAML integer written in decimal, or null (reported as not being {@code expected}). */
  private BigInteger integer(Node node, String path, String expected) {
    if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
      String v = s.getValue().replace("_", "");
      if (DECIMAL.matcher(v).matches()) {
        return new BigInteger(v.startsWith("+") ? v.substring(1) : v);
      }
    }
    err(node, path, "expected " + expected + ", found " + describe(node));
    return null;
  }

  private BigInteger positive(Node node, String path, BigInteger max) {
    String expected = "a positive integer";
    BigInteger n = integer(node, path, expected);
    if (n != null && (n.signum() <= 0 || n.compareTo(max) > 0)) {
      err(
          node,
          path,
          "expected " + expected + (n.signum() > 0 ? " at most " + max : "") + ", found " + n);
      return null;
    }
    return n;
  }

  private Double percentile(Node node, String path) {
    String expected = "a percentile above 0 and at most 100";
    if (node instanceof ScalarNode s
        && (s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))) {
      String v = s.getValue().replace("_", "");
      try {
        double p = Double.parseDouble(v);
        if (p > 0 && p <= 100) {
          return p;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    err(node, path, "expected " + expected + ", found " + describe(node));
    return null;
  }

  private Duration duration(Node node, String path) {
    if (node instanceof ScalarNode s
        && (s.getTag().equals(Tag.STR) || s.getTag().equals(Tag.INT))) {
      try {
        return Durations.parse(s.getValue());
      } catch (IllegalArgumentException e) {
        err(node, path, e.getMessage());
        return null;
      }
    }
    err(node, path, "expected " + DURATION + ", found " + describe(node));
    return null;
  }

  // ---- positions and messages ----

  private Position position(Node node) {
    Mark mark = node.getStartMark();
    return new Position(file, mark.getLine() + 1, mark.getColumn() + 1);
  }

  /** "line 3", or "line 3, column 7" when {@code first} and {@code again} share a line. */
  private static String where(Node first, Node again) {
    Mark f = first.getStartMark();
    String line = "line " + (f.getLine() + 1);
    return f.getLine() == again.getStartMark().getLine()
        ? line + ", column " + (f.getColumn() + 1)
        : line;
  }

  private void missing(MappingNode m, String path, String message) {
    if (!merged.contains(m)) {
      err(m, path, message);
    }
  }

  private void err(Node node, String path, String message) {
    Mark mark = node.getStartMark();
    if (reported.contains(mark)) {
      return; // its tag was reported; one error per mistake
    }
    errors.add(
        new RuleError(
            file,
            mark.getLine() + 1,
            mark.getColumn() + 1,
            path.isEmpty() ? message : path + ": " + message));
  }

  /** What a node is, for "found ...". */
  static String describe(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    ScalarNode s = (ScalarNode) node;
    Tag tag = s.getTag();
    if (tag.equals(Tag.NULL)) {
      return s.getValue().isEmpty() ? "nothing" : "null";
    }
    if (tag.equals(Tag.STR)) {
      return s.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN
          ? Text.quote(s.getValue())
          : "a quoted string " + Text.quote(s.getValue());
    }
    String q = Text.quote(s.getValue());
    return q.substring(1, q.length() - 1);
  }
}
