package dev.firebreak.rules;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One validated rules file, immutable. A reload builds a new one and swaps it in whole.
 *
 * @param source where the rules came from (a path, or a name for in-memory sources)
 * @param sha256 hex sha256 of the file's bytes, shown in {@code firebreak_rules_info}
 */
public record RuleSet(
    int version,
    String source,
    String sha256,
    MetricsConfig metrics,
    AlertsConfig alerts,
    ReloadConfig reload,
    AdminConfig admin,
    KillSwitchConfig killSwitch,
    Mode mode,
    List<Target> targets,
    AutoFence autoFence) {

  public RuleSet {
    targets = List.copyOf(targets);
  }

  /** A rule set without an {@code auto-fence} section. */
  public RuleSet(
      int version,
      String source,
      String sha256,
      MetricsConfig metrics,
      AlertsConfig alerts,
      ReloadConfig reload,
      AdminConfig admin,
      KillSwitchConfig killSwitch,
      Mode mode,
      List<Target> targets) {
    this(version, source, sha256, metrics, alerts, reload, admin, killSwitch, mode, targets, null);
  }

  /** This rule set with other targets (the file's and the automatic fences in force). */
  public RuleSet withTargets(List<Target> others) {
    return new RuleSet(
        version,
        source,
        sha256,
        metrics,
        alerts,
        reload,
        admin,
        killSwitch,
        mode,
        others,
        autoFence);
  }

  /** Does this rule set instrument anything: a target, or an auto-fence's net? */
  public boolean instruments() {
    return !targets.isEmpty() || autoFence != null;
  }

  /**
   * No targets, everything else as {@code like} (or the defaults): what {@code attach --detach}
   * leaves.
   */
  public static RuleSet empty(RuleSet like) {
    return new RuleSet(
        1,
        "detached",
        "",
        like == null ? MetricsConfig.DEFAULT : like.metrics(),
        like == null ? AlertsConfig.DEFAULT : like.alerts(),
        ReloadConfig.DEFAULT,
        like == null ? AdminConfig.DEFAULT : like.admin(),
        KillSwitchConfig.DEFAULT,
        Mode.ENFORCE,
        List.of());
  }

  public Optional<Target> target(String name) {
    return targets.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  /**
   * @param tls null: plain HTTP
   * @param basicAuth null: {@code /metrics} needs no credentials
   */
  /**
   * @param methodsPerTarget how many methods of one target /metrics shows one by one; the others
   *     are summed into one series ({@code method="(other)"})
   */
  public record MetricsConfig(
      String host, int port, Tls tls, BasicAuth basicAuth, int methodsPerTarget) {
    public static final int DEFAULT_METHODS_PER_TARGET = 100;
    public static final MetricsConfig DEFAULT = new MetricsConfig("127.0.0.1", 9464);

    public MetricsConfig(String host, int port) {
      this(host, port, null, null);
    }

    public MetricsConfig(String host, int port, Tls tls, BasicAuth basicAuth) {
      this(host, port, tls, basicAuth, DEFAULT_METHODS_PER_TARGET);
    }
  }

  /**
   * {@code metrics.tls}: the server's key and certificate (PKCS12 or JKS), and the file holding its
   * password.
   */
  public record Tls(String keystore, String passwordFile) {}

  /**
   * {@code metrics.basic-auth}: the one user {@code /metrics} accepts, and the file holding its
   * password.
   */
  public record BasicAuth(String user, String passwordFile) {}

  /**
   * @param log "stderr", "off" or a file path (JSON lines)
   * @param alertmanager base URL or null
   * @param webhook URL or null
   */
  public record AlertsConfig(
      String log,
      String alertmanager,
      String webhook,
      Duration repeatInterval,
      Map<String, String> labels) {
    public static final AlertsConfig DEFAULT =
        new AlertsConfig("stderr", null, null, Duration.ofSeconds(30), Map.of());

    public AlertsConfig {
      labels = Map.copyOf(labels);
    }
  }

  public record ReloadConfig(boolean watch, Duration interval) {
    public static final ReloadConfig DEFAULT = new ReloadConfig(true, Duration.ofSeconds(2));
  }

  /**
   * @param tokenFile null when the admin endpoints are off
   */
  public record AdminConfig(String tokenFile) {
    public static final AdminConfig DEFAULT = new AdminConfig(null);
  }

  /**
   * The {@code auto-fence} section: where a fence may be put, and what the fences do.
   *
   * @param packages class globs; never the JDK's or the agent's own packages
   * @param mode null: the file's mode
   */
  public record AutoFence(
      List<String> packages,
      int depth,
      Action action,
      Fallback fallback,
      Mode mode,
      int maxFences,
      Position position) {
    public static final int DEFAULT_DEPTH = 256;
    public static final int DEFAULT_MAX_FENCES = 20;

    public AutoFence {
      packages = List.copyOf(packages);
    }

    /** This section with its position blanked: equal when only the file's layout changed. */
    public AutoFence withoutPosition() {
      return new AutoFence(packages, depth, action, fallback, mode, maxFences, null);
    }
  }

  public record KillSwitchConfig(Duration openFor, int halfOpenCalls) {
    public static final KillSwitchConfig DEFAULT = new KillSwitchConfig(Duration.ofSeconds(60), 5);
  }
}
