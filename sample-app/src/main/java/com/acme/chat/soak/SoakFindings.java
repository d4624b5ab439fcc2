package com.acme.chat.soak;

import com.acme.chat.load.LoadGenerator;
import com.acme.chat.replay.AgentWatch;
import com.acme.chat.soak.Soak.Check;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.HdrHistogram.Histogram;

/**
 * What the soak saw while it ran, and the verdict drawn from it: one {@link Check} per promise,
 * each with the figures behind it. Filled by {@link Soak} on its schedule thread.
 */
final class SoakFindings {
  /** A load pause: whether the service went idle, and what the agent said then. */
  record Pause(
      String label,
      int cycle,
      long atMicros,
      String notIdle,
      Map<String, Double> inflight,
      long heapBytes) {}

  /** A moment by which every kill switch must be closed, and what they were then. */
  record CloseDeadline(
      String label,
      int cycle,
      double limitSeconds,
      Map<String, Double> states,
      Map<String, Double> closedAfterSeconds,
      String error) {}

  static final double GOOD_PHASE_MIN_PCT = 99.0;

  /**
   * The load phase before the first cycle: a fresh JVM on both sides (JIT, connections); not held
   * to the 99 %.
   */
  static final String WARMUP = "warm-up";

  static final double HEAP_TOLERANCE_PCT = 10.0;

  final long startMicros;
  final Set<String> provokedErrorKinds;
  private final List<long[]> stepStarts = new ArrayList<>(); // [micros, index into stepNames]
  private final List<String> stepNames = new ArrayList<>();

  final List<String> scheduleProblems = new ArrayList<>();
  final List<Pause> pauses = new ArrayList<>();
  final List<CloseDeadline> closeDeadlines = new ArrayList<>();
  Map<String, Double> errorsAtStart = Map.of();
  Map<String, Double> errorsAtEnd = Map.of();

  /** Per kind that rose: the first time it was seen above its start value. */
  final Map<String, String> errorFirstRose = new LinkedHashMap<>();

  long heapAfterWarmup = -1;
  long heapAtEnd = -1;
  final List<Long> heapPerCycle = new ArrayList<>();

  LoadGenerator.Result load;
  String deadline = "";

  /** Accepted messages never seen in their room: id -> phase. */
  Map<String, String> unseen = Map.of();

  /** Every dead letter the service reported: id -> error. */
  Map<String, String> deadLetters = Map.of();

  boolean deadLettersComplete = true;

  long scrapes;
  long badScrapeCount;
  List<AgentWatch.BadScrape> badScrapes = List.of();
  Histogram scrapeMicros;

  int cycles;
  int badPacks;
  int rulesWritten;
  int invalidWritten;
  int renderDrops;
  int adminRequests;
  int alertmanagerRestarts;
  int attaches;
  int detaches;
  String alertFigures = "";

  /** The load phase of a step: {@code c3 bad: NAME} (cycle 0: outside the cycles). */
  static String phase(int cycle, boolean goodPack, String step) {
    return "c" + cycle + " " + (goodPack ? "good: " : "bad: ") + step;
  }

  /** The step of a phase, without its cycle. */
  static String step(String phase) {
    return phase.startsWith("c") && phase.indexOf(' ') > 0
        ? phase.substring(phase.indexOf(' ') + 1)
        : phase;
  }

  static int cycleOf(String phase) {
    try {
      return phase.startsWith("c") ? Integer.parseInt(phase.substring(1, phase.indexOf(' '))) : -1;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** One step of the schedule's load summed over the cycles. */
  record StepLoad(String step, long sent, long delivered, double p99Ms) {
    double deliveredPct() {
      return sent == 0 ? 0 : 100.0 * delivered / sent;
    }
  }

  List<StepLoad> loadBySteps() {
    Map<String, long[]> counts = new LinkedHashMap<>();
    Map<String, Histogram> latencies = new LinkedHashMap<>();
    for (Map.Entry<String, LoadGenerator.Summary> e : load.phases().entrySet()) {
      String step = step(e.getKey());
      long[] c = counts.computeIfAbsent(step, k -> new long[2]);
      c[0] += e.getValue().sent();
      c[1] += e.getValue().delivered();
      Histogram h = load.phaseLatencies().get(e.getKey());
      if (h != null)
        latencies.merge(
            step,
            h.copy(),
            (a, b) -> {
              a.add(b);
              return a;
            });
    }
    List<StepLoad> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      Histogram h = latencies.get(e.getKey());
      double p99 = h == null || h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(99) / 1000.0;
      out.add(new StepLoad(e.getKey(), e.getValue()[0], e.getValue()[1], p99));
    }
    return out;
  }

  SoakFindings(long startMicros, Set<String> provokedErrorKinds) {
    this.startMicros = startMicros;
    this.provokedErrorKinds = provokedErrorKinds;
  }

  void stepStarted(long micros, String name) {
    stepNames.add(name);
    stepStarts.add(new long[] {micros, stepNames.size() - 1});
  }

  /** "1:23 (cycle 2, 'bad pack')": when something happened, in the soak's time and schedule. */
  String when(long micros) {
    String step = "";
    for (long[] s : stepStarts) {
      if (s[0] <= micros) step = stepNames.get((int) s[1]);
      else break;
    }
    return clock(micros) + (step.isEmpty() ? "" : " (" + step + ")");
  }

  String clock(long micros) {
    long s = Math.max(0, (micros - startMicros) / 1_000_000);
    return String.format("%d:%02d", s / 60, s % 60);
  }

  // ---------------------------------------------------------------- the verdict

  List<Check> checks() {
    List<Check> out = new ArrayList<>();
    out.add(noMessageLost());
    out.add(goodPhasesDelivered());
    out.add(inflightZeroAtPauses());
    out.add(switchesClosed());
    out.add(noAgentErrors());
    out.add(heap());
    out.add(scrapes());
    out.add(schedule());
    return out;
  }

  private Check noMessageLost() {
    List<String> d = new ArrayList<>();
    if (load == null) return new Check("no message lost", false, List.of("the load never ran"));
    LoadGenerator.Summary t = load.total();
    int deadLettered = 0;
    List<String> lost = new ArrayList<>();
    Map<String, Integer> lostByPhase = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : unseen.entrySet()) {
      String error = deadLetters.get(e.getKey());
      if (error != null && !error.isBlank()) {
        deadLettered++;
      } else {
        lost.add(e.getKey());
        lostByPhase.merge(e.getValue(), 1, Integer::sum);
      }
    }
    long delivered = t.delivered() + t.late();
    d.add(
        String.format(
            "sent %d: delivered %d (%d within the %s deadline, %d later), dead-lettered with a reason %d, "
                + "accepted and neither delivered nor dead-lettered %d, refused (503) %d, requests failed %d",
            t.sent(),
            delivered,
            t.delivered(),
            deadline,
            t.late(),
            deadLettered,
            lost.size(),
            t.rejected(),
            t.errors()));
    if (!deadLetters.isEmpty()) {
      Map<String, Integer> reasons = new LinkedHashMap<>();
      for (String e : deadLetters.values()) reasons.merge(e, 1, Integer::sum);
      d.add("dead-letter reasons: " + reasons);
    }
    List<String> refused = new ArrayList<>();
    for (Map.Entry<String, LoadGenerator.Summary> e : load.phases().entrySet()) {
      LoadGenerator.Summary s = e.getValue();
      if (s.rejected() + s.errors() > 0)
        refused.add(
            String.format("'%s' refused %d, failed %d", e.getKey(), s.rejected(), s.errors()));
    }
    if (!refused.isEmpty()) d.add("refused or failed requests: " + String.join("; ", refused));
    if (!lost.isEmpty()) {
      d.add(
          "lost by phase: "
              + lostByPhase
              + "; ids "
              + String.join(", ", lost.subList(0, Math.min(10, lost.size())))
              + (lost.size() > 10 ? ", ..." : ""));
    }
    if (!deadLettersComplete)
      d.add("the service kept fewer dead letters than it counted: some could not be matched");
    boolean ok = lost.isEmpty() && t.rejected() == 0 && t.errors() == 0 && t.sent() > 0;
    return new Check("no message lost (each delivered, or dead-lettered with a reason)", ok, d);
  }

  private Check goodPhasesDelivered() {
    if (load == null)
      return new Check("good-pack phases deliver >= 99 %", false, List.of("the load never ran"));
    long sent = 0;
    long delivered = 0;
    List<String> worst = new ArrayList<>();
    for (Map.Entry<String, LoadGenerator.Summary> e : load.phases().entrySet()) {
      if (!step(e.getKey()).startsWith("good:")) continue;
      LoadGenerator.Summary s = e.getValue();
      sent += s.sent();
      delivered += s.delivered();
      if (s.successPct() < GOOD_PHASE_MIN_PCT)
        worst.add(
            String.format(
                "'%s' %.2f %% (%d of %d)", e.getKey(), s.successPct(), s.delivered(), s.sent()));
    }
    double pct = sent == 0 ? 0 : 100.0 * delivered / sent;
    List<String> d = new ArrayList<>();
    d.add(
        String.format(
            "%.2f %% delivered within the deadline (%d of %d sent while the good pack was live, the warm-up apart)",
            pct, delivered, sent));
    LoadGenerator.Summary w = load.phases().get(WARMUP);
    if (w != null)
      d.add(
          String.format(
              "warm-up (not held to 99 %%): %.2f %% (%d of %d)",
              w.successPct(), w.delivered(), w.sent()));
    if (!worst.isEmpty()) d.add("steps below 99 %: " + String.join(", ", worst));
    return new Check("good-pack phases deliver >= 99 %", sent > 0 && pct >= GOOD_PHASE_MIN_PCT, d);
  }

  private Check inflightZeroAtPauses() {
    List<String> d = new ArrayList<>();
    int bad = 0;
    Map<String, Double> shown = Map.of();
    int same = 0;
    for (Pause p : pauses) {
      Map<String, Double> nonZero = new LinkedHashMap<>();
      if (p.inflight() != null)
        p.inflight()
            .forEach(
                (k, v) -> {
                  if (v != 0) nonZero.put(k, v);
                });
      String where =
          String.format(
              "%s, pause '%s'%s",
              clock(p.atMicros()), p.label(), p.cycle() > 0 ? " (cycle " + p.cycle() + ")" : "");
      if (p.notIdle() != null) {
        bad++;
        d.add(where + ": " + p.notIdle());
      } else if (p.inflight() == null) {
        bad++;
        d.add(where + ": /metrics did not answer");
      } else if (!nonZero.isEmpty()) {
        bad++;
        // a gauge that stays wrong is shown when it changes, not at every pause
        if (nonZero.equals(shown)) {
          same++;
          continue;
        }
        if (same > 0) d.add(sameAfter(same));
        same = 0;
        shown = nonZero;
        d.add(
            where
                + ": the service idle (no message queued or in flight), but firebreak_inflight_calls "
                + nonZero);
      }
    }
    if (same > 0) d.add(sameAfter(same));
    d.add(0, String.format("%d pauses, %d with a series not 0", pauses.size(), bad));
    return new Check(
        "firebreak_inflight_calls is 0 at every load pause", bad == 0 && !pauses.isEmpty(), d);
  }

  private static String sameAfter(int n) {
    return n == 1
        ? "  (the same at the next pause)"
        : "  (the same at the " + n + " pauses after it)";
  }

  private Check switchesClosed() {
    List<String> d = new ArrayList<>();
    int bad = 0;
    double slowest = 0;
    String slowestWhat = "";
    for (CloseDeadline c : closeDeadlines) {
      Map<String, Double> open = new LinkedHashMap<>();
      c.states()
          .forEach(
              (k, v) -> {
                if (v != 0) open.put(k, v);
              });
      if (c.error() != null || !open.isEmpty()) {
        bad++;
        d.add(
            String.format(
                "cycle %d, %s: %s",
                c.cycle(),
                c.label(),
                c.error() != null
                    ? c.error()
                    : "at open-for + 5 s ("
                        + c.limitSeconds()
                        + " s) still "
                        + describeStates(open)));
      }
      for (Map.Entry<String, Double> e : c.closedAfterSeconds().entrySet()) {
        if (e.getValue() > slowest && c.states().getOrDefault(e.getKey(), 1.0) == 0) {
          slowest = e.getValue();
          slowestWhat = e.getKey() + ", cycle " + c.cycle() + ", " + c.label();
        }
      }
    }
    d.add(
        0,
        String.format(
            "%d deadlines, %d missed; slowest close %.1f s%s",
            closeDeadlines.size(),
            bad,
            slowest,
            slowestWhat.isEmpty() ? "" : " (" + slowestWhat + ")"));
    return new Check(
        "every kill switch closed within open-for + 5 s", bad == 0 && !closeDeadlines.isEmpty(), d);
  }

  private static String describeStates(Map<String, Double> states) {
    List<String> out = new ArrayList<>();
    states.forEach(
        (k, v) -> out.add(k + "=" + (v == 1 ? "open" : v == 2 ? "half-open" : v.toString())));
    return String.join(", ", out);
  }

  private Check noAgentErrors() {
    List<String> d = new ArrayList<>();
    Set<String> kinds = new TreeSet<>(errorsAtStart.keySet());
    kinds.addAll(errorsAtEnd.keySet());
    int bad = 0;
    for (String k : kinds) {
      double before = errorsAtStart.getOrDefault(k, 0.0);
      double after = errorsAtEnd.getOrDefault(k, Double.NaN);
      if (Double.isNaN(after)) continue;
      if (after > before) {
        boolean provoked = provokedErrorKinds.contains(k);
        if (!provoked) bad++;
        d.add(
            String.format(
                "kind=\"%s\" %.0f -> %.0f%s%s",
                k,
                before,
                after,
                provoked ? " (provoked by the schedule)" : "",
                errorFirstRose.containsKey(k)
                    ? ", first seen risen at " + errorFirstRose.get(k)
                    : ""));
      }
    }
    d.add(
        0,
        String.format(
            "firebreak_agent_errors_total at the start %s, at the end %s; kinds the schedule provokes: %s",
            errorsAtStart,
            errorsAtEnd,
            provokedErrorKinds.isEmpty() ? "none" : provokedErrorKinds));
    return new Check(
        "no firebreak_agent_errors_total kind rises (but those the schedule provokes)",
        bad == 0 && !errorsAtEnd.isEmpty(),
        d);
  }

  private Check heap() {
    List<String> d = new ArrayList<>();
    if (heapAfterWarmup <= 0 || heapAtEnd <= 0) {
      return new Check(
          "heap after GC at the end within 10 % of after the warm-up",
          false, List.of("not measured (warm-up " + heapAfterWarmup + ", end " + heapAtEnd + ")"));
    }
    double pct = 100.0 * (heapAtEnd - heapAfterWarmup) / heapAfterWarmup;
    d.add(
        String.format(
            "after the warm-up cycle %s, at the end %s (%+.1f %%)",
            mb(heapAfterWarmup), mb(heapAtEnd), pct));
    List<String> trend = new ArrayList<>();
    for (long h : heapPerCycle) trend.add(mb(h));
    d.add("after GC at the end of each cycle: " + String.join(", ", trend));
    return new Check(
        "heap after GC at the end within 10 % of after the warm-up", pct <= HEAP_TOLERANCE_PCT, d);
  }

  private static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1e6);
  }

  private Check scrapes() {
    List<String> d = new ArrayList<>();
    Histogram h = scrapeMicros;
    d.add(
        String.format(
            "%d scrapes; p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d failed or over %d ms",
            scrapes,
            h == null ? 0 : h.getValueAtPercentile(50) / 1000.0,
            h == null ? 0 : h.getValueAtPercentile(99) / 1000.0,
            h == null ? 0 : h.getMaxValue() / 1000.0,
            badScrapeCount,
            AgentWatch.SLOW_MILLIS));
    for (AgentWatch.BadScrape b : badScrapes.subList(0, Math.min(10, badScrapes.size()))) {
      d.add(
          String.format(
              "%s: %s",
              when(b.atMicros()),
              b.error() == null ? b.millis() + " ms" : b.error() + " after " + b.millis() + " ms"));
    }
    return new Check(
        "every scrape of /metrics answered within 1 s", badScrapeCount == 0 && scrapes > 0, d);
  }

  private Check schedule() {
    List<String> d = new ArrayList<>();
    d.add(
        String.format(
            "%d cycles: bad pack %dx, rules written %dx (%d invalid), renderer target dropped and re-added %dx, "
                + "admin requests %d, Alertmanager stopped and started %dx, attach %dx, detach + re-attach %dx, load pauses %d",
            cycles,
            badPacks,
            rulesWritten,
            invalidWritten,
            renderDrops,
            adminRequests,
            alertmanagerRestarts,
            attaches,
            detaches,
            pauses.size()));
    if (!alertFigures.isEmpty()) d.add(alertFigures);
    for (String p : scheduleProblems.subList(0, Math.min(20, scheduleProblems.size()))) d.add(p);
    if (scheduleProblems.size() > 20) d.add("... and " + (scheduleProblems.size() - 20) + " more");
    return new Check(
        "each action of the schedule took effect (rules applied or rejected, admin, attach, detach)",
        scheduleProblems.isEmpty() && cycles > 0,
        d);
  }
}
