package dev.firebreak.alert;

import dev.firebreak.json.Json;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.rules.Text;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * {@code alerts.alertmanager}: POSTs to {@code /api/v2/alerts} in Alertmanager's own format. An
 * alert is identified by its labels: {@code alertname} (the rule), {@code target}, {@code
 * severity}, {@code mode} and the file's {@code alerts.labels}.
 *
 * <p>{@code endsAt}, the way Prometheus does it: Alertmanager resolves an alert whose {@code
 * endsAt} has passed, so every firing post carries one in the future and is refreshed while the
 * condition lasts.
 *
 * <ul>
 *   <li>A condition the agent sees end (an enforcing {@code trip}: its kill switch closes; a {@code
 *       latency} rule: back under its threshold) is re-posted every repeat-interval (at least 5 s,
 *       at most 60 s apart) with {@code endsAt} three such periods ahead, and posted with {@code
 *       endsAt = now} when the resolved event arrives. If the agent dies, the alert resolves within
 *       three periods instead of firing forever.
 *   <li>A one-off event ({@code alert}/{@code limit} of a depth, duration or call-budget rule, and
 *       anything in observe mode) has no end the agent could report: it gets {@code endsAt} two
 *       {@code repeat-interval}s (at least a minute) ahead. The engine re-notifies at most once per
 *       repeat-interval while the rule keeps firing, which extends it; once it stops, the alert
 *       resolves.
 * </ul>
 *
 * <p>Leaving {@code endsAt} out instead would hand the decision to Alertmanager's {@code
 * resolve_timeout} (5m by default): an open kill switch that re-trips less often than that would
 * flap between firing and resolved.
 *
 * <p>The table of alerts is touched only by the sink's own thread ({@link #send}, {@link
 * #refresh}); a reload only swaps the volatile settings.
 */
public final class AlertmanagerSink implements AlertSink {
  static final String PATH = "/api/v2/alerts";
  static final long MIN_REFRESH_MILLIS = 5_000;
  static final long MAX_REFRESH_MILLIS = 60_000;

  /**
   * Alertmanager groups and notifies on a scale of tens of seconds; a shorter alert would come and
   * go unseen.
   */
  static final long MIN_ONE_OFF_MILLIS = 60_000;

  private final HttpPost post;
  private final LongSupplier clock;
  private volatile Settings settings;
  private Settings applied;

  /** "rule|target" → the alert as last posted (or waiting to be). */
  private final Map<String, Posted> alerts = new LinkedHashMap<>();

  /** What the sink knows of a rule from the file: how to word it, and whether it ends by itself. */
  record RuleInfo(Rule.Condition condition, boolean resolves) {}

  record Settings(long repeatMillis, Map<String, RuleInfo> rules) {
    static Settings of(RuleSet rs) {
      Map<String, RuleInfo> rules = new HashMap<>();
      if (rs != null) {
        for (Target t : rs.targets()) {
          for (Rule r : t.rules()) {
            boolean enforce = r.effectiveMode(rs.mode()) == Mode.ENFORCE;
            boolean resolves =
                r.condition() instanceof Rule.Latency || (enforce && r.action() == Action.TRIP);
            rules.put(r.name() + "|" + t.name(), new RuleInfo(r.condition(), resolves));
          }
        }
      }
      long repeat = rs == null ? 30_000 : Math.max(1, rs.alerts().repeatInterval().toMillis());
      return new Settings(repeat, Map.copyOf(rules));
    }

    long refreshMillis() {
      return Math.max(MIN_REFRESH_MILLIS, Math.min(MAX_REFRESH_MILLIS, repeatMillis));
    }

    long oneOffMillis() {
      return Math.max(MIN_ONE_OFF_MILLIS, 2 * repeatMillis);
    }
  }

  private static final class Posted {
    final String target;
    final boolean resolves;
    final boolean trip;
    final String labels;
    final String annotations;
    final long startsAt;

    /** epoch millis; for a resolved alert, when it resolved. */
    long endsAt;

    boolean resolved;

    Posted(
        String target,
        boolean resolves,
        boolean trip,
        String labels,
        String annotations,
        long startsAt) {
      this.target = target;
      this.resolves = resolves;
      this.trip = trip;
      this.labels = labels;
      this.annotations = annotations;
      this.startsAt = startsAt;
    }
  }

  public AlertmanagerSink(URI base, RuleSet rules) {
    this(
        base,
        rules,
        HttpPost.CONNECT_TIMEOUT_MILLIS,
        HttpPost.READ_TIMEOUT_MILLIS,
        new LongSupplier() { // no lambda: no invokedynamic bootstrap on the agent's start
          @Override
          public long getAsLong() {
            return System.currentTimeMillis();
          }
        });
  }

  AlertmanagerSink(
      URI base,
      RuleSet rules,
      int connectTimeoutMillis,
      int readTimeoutMillis,
      LongSupplier clock) {
    this.post = new HttpPost(endpoint(base), connectTimeoutMillis, readTimeoutMillis);
    this.clock = clock;
    this.settings = Settings.of(rules);
    this.applied = settings;
  }

  /** {@code http://am:9093} → {@code http://am:9093/api/v2/alerts}; a full API URL is kept. */
  static URI endpoint(URI base) {
    String s = base.toString();
    if (s.endsWith(PATH)) {
      return base;
    }
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return URI.create(s + PATH);
  }

  @Override
  public String name() {
    return "alertmanager";
  }

  @Override
  public String destination() {
    return "alertmanager " + post.uri();
  }

  @Override
  public String printableDestination() {
    return "alertmanager " + Text.redactUrl(post.uri().toString());
  }

  @Override
  public void reconfigure(AlertSink next) {
    if (next instanceof AlertmanagerSink am) {
      settings = am.settings;
    }
  }

  @Override
  public long refreshMillis() {
    return settings.refreshMillis();
  }

  @Override
  public void send(AlertEvent e) throws Exception {
    Settings s = current();
    long now = clock.getAsLong();
    String key = e.rule() + "|" + e.target();
    if (e.resolved()) {
      boolean any = false;
      for (Map.Entry<String, Posted> entry : alerts.entrySet()) {
        Posted p = entry.getValue();
        // a kill switch that closed ends every trip alert of its target, whichever rule tripped it
        boolean match =
            entry.getKey().equals(key)
                || ("trip".equals(e.action()) && p.trip && p.target.equals(e.target()));
        if (match) {
          any = true;
          if (!p.resolved) {
            p.resolved = true;
            p.endsAt = Math.max(now, p.startsAt);
          }
        }
      }
      if (!any) {
        // resolving an alert this sink never posted (the agent restarted): harmless, and it may end
        // one
        Posted p = build(e, s, now);
        p.resolved = true;
        p.endsAt = p.startsAt;
        alerts.put(key, p);
      }
      postAndForgetResolved(selectResolved());
      return;
    }
    Posted before = alerts.get(key);
    long startsAt =
        before != null && !before.resolved && before.endsAt > now
            ? before.startsAt
            : e.epochMillis();
    Posted p = build(e, s, startsAt);
    p.endsAt = now + (p.resolves ? 3 * s.refreshMillis() : s.oneOffMillis());
    alerts.put(key, p);
    postAndForgetResolved(List.of(p));
  }

  /** Re-posts what is still firing (with a later endsAt) and resolutions not delivered yet. */
  @Override
  public void refresh() throws Exception {
    Settings s = current();
    long now = clock.getAsLong();
    List<Posted> batch = new ArrayList<>();
    for (Iterator<Posted> it = alerts.values().iterator(); it.hasNext(); ) {
      Posted p = it.next();
      if (p.resolved) {
        batch.add(p);
      } else if (p.resolves) {
        p.endsAt = now + 3 * s.refreshMillis();
        batch.add(p);
      } else if (p.endsAt <= now) {
        it.remove(); // a one-off alert that Alertmanager has resolved by itself
      }
    }
    if (!batch.isEmpty()) {
      postAndForgetResolved(batch);
    }
  }

  /** Applies new settings from a reload: alerts of rules that are gone resolve now. */
  private Settings current() {
    Settings s = settings;
    if (s != applied) {
      applied = s;
      long now = clock.getAsLong();
      for (Map.Entry<String, Posted> entry : alerts.entrySet()) {
        Posted p = entry.getValue();
        if (!p.resolved && p.resolves && !s.rules().containsKey(entry.getKey())) {
          p.resolved = true;
          p.endsAt = Math.max(now, p.startsAt);
        }
      }
    }
    return s;
  }

  private List<Posted> selectResolved() {
    List<Posted> out = new ArrayList<>();
    for (Posted p : alerts.values()) {
      if (p.resolved) {
        out.add(p);
      }
    }
    return out;
  }

  private void postAndForgetResolved(List<Posted> batch) throws Exception {
    post.send(json(batch));
    alerts.values().removeIf(p -> p.resolved && batch.contains(p));
  }

  private static String json(List<Posted> batch) {
    StringBuilder b = new StringBuilder(1024);
    b.append('[');
    for (int i = 0; i < batch.size(); i++) {
      Posted p = batch.get(i);
      if (i > 0) {
        b.append(',');
      }
      b.append("{\"labels\":").append(p.labels);
      b.append(",\"annotations\":").append(p.annotations);
      b.append(",\"startsAt\":");
      Json.quote(b, Instant.ofEpochMilli(p.startsAt).toString());
      b.append(",\"endsAt\":");
      Json.quote(b, Instant.ofEpochMilli(p.endsAt).toString());
      b.append('}');
    }
    b.append(']');
    return b.toString();
  }

  private static Posted build(AlertEvent e, Settings s, long startsAt) {
    RuleInfo info = s.rules().get(e.rule() + "|" + e.target());
    boolean resolves = info != null && info.resolves();
    boolean enforce = "enforce".equals(e.mode());
    boolean shortCircuits = enforce && ("trip".equals(e.action()) || "limit".equals(e.action()));

    Map<String, String> labels = new TreeMap<>(e.labels());
    labels.put("alertname", e.rule());
    labels.put("target", e.target());
    labels.put("severity", shortCircuits ? "critical" : "warning");
    labels.put("mode", e.mode());

    Map<String, String> annotations = new TreeMap<>();
    annotations.put("summary", summary(e, info == null ? null : info.condition()));
    annotations.put("method", e.method());
    annotations.put("action", e.action());
    annotations.put("value", number(e.value()));
    annotations.put("threshold", number(e.threshold()));
    List<String> stack = e.foldedStack();
    if (!stack.isEmpty()) {
      annotations.put("stack", String.join("\n", stack));
    }
    if (e.thread() != null && !e.thread().isEmpty()) {
      annotations.put("thread", e.thread());
    }
    if (e.argument() != null) {
      annotations.put("argument", argument(e.argument()));
    }
    if (e.rulesSha256() != null && !e.rulesSha256().isEmpty()) {
      annotations.put("rules_sha256", e.rulesSha256());
    }
    if (e.snippet() != null) {
      annotations.put("snippet", e.snippet());
    }
    StringBuilder l = new StringBuilder();
    Json.stringMap(l, labels);
    StringBuilder a = new StringBuilder();
    Json.stringMap(a, annotations);
    return new Posted(
        e.target(),
        resolves,
        resolves && "trip".equals(e.action()),
        l.toString(),
        a.toString(),
        startsAt);
  }

  /** One line an on-call engineer reads first: where, how deep or how long, and what was done. */
  static String summary(AlertEvent e, Rule.Condition c) {
    String v = number(e.value());
    String t = number(e.threshold());
    String where = e.target() + ": " + e.method();
    String what;
    if (e.snippet() != null) { // the auto-fence put up a fence
      boolean observe = "observe".equals(e.mode());
      return where
          + " ran away in a cycle no rule named (depth "
          + v
          + "); "
          + (observe
              ? "observe mode: watched, never short-circuited"
              : "fenced at depth " + t + " (" + e.action() + ")");
    } else if (c instanceof Rule.Depth) {
      what = where + " reached depth " + v + " (limit " + t + ")";
    } else if (c instanceof Rule.CallsPerInvocation b) {
      what =
          where + " was called " + v + " times inside one call of " + b.of() + " (limit " + t + ")";
    } else if (c instanceof Rule.Stuck) {
      what =
          where
              + " has been running for "
              + v
              + " ms (limit "
              + t
              + " ms)"
              + (e.thread() == null || e.thread().isEmpty() ? "" : " on thread " + e.thread());
    } else if (c instanceof Rule.Latency l) {
      what = where + " p" + number(l.percentile()) + " latency " + v + " ms (above " + t + " ms)";
    } else {
      what = where + " value " + v + " (threshold " + t + ")";
    }
    boolean enforce = "enforce".equals(e.mode());
    if (!enforce && !"alert".equals(e.action())) {
      return what + "; observe mode: would have done " + e.action();
    }
    if ("trip".equals(e.action())) {
      return what + "; kill switch opened";
    }
    if ("limit".equals(e.action())) {
      return what + "; the call was short-circuited";
    }
    return what;
  }

  private static String argument(AlertEvent.ArgumentInfo a) {
    StringBuilder b =
        new StringBuilder("argument ").append(a.index()).append(": ").append(a.type());
    if (a.length() >= 0) {
      b.append(", length ").append(a.length());
    }
    if (a.sha256() != null) {
      b.append(", sha256 ").append(a.sha256());
    }
    if (a.value() != null) {
      b.append(", value ").append(Json.quote(a.value()));
    }
    return b.toString();
  }

  private static String number(double v) {
    StringBuilder b = new StringBuilder();
    Json.number(b, v);
    return b.toString();
  }
}
