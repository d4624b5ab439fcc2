package com.acme.chat.replay;

import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;

/**
 * Watches a Firebreak agent from outside, as an SRE's tooling would: polls its Prometheus {@code
 * /metrics} for the kill switch states and tails its alert log (JSON lines). Every scrape, the
 * poller's and those asked for with {@link #scrape()}, is timed: how long {@code /metrics} takes to
 * answer is part of what is watched.
 */
public final class AgentWatch implements AutoCloseable {
  /** A kill switch state change as seen by the poller. */
  public record Transition(long atMicros, int state) {}

  /**
   * A scrape that did not answer 200 within {@link #SLOW_MILLIS} (error null: it answered, late).
   */
  public record BadScrape(long atMicros, long millis, String error) {}

  /** Scrapes slower than this are kept in {@link #badScrapes()}. */
  public static final long SLOW_MILLIS = 1000;

  private static final int MAX_BAD_SCRAPES = 1000;

  private final URI metrics;
  private final Path alertLog;
  private final String target;
  private final Duration every;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final Thread thread;
  private final Map<String, List<Transition>> transitions = new HashMap<>();
  private final Map<String, Integer> states = new HashMap<>();
  private final List<Map<String, Object>> alerts = new ArrayList<>();
  private final List<Long> alertSeenMicros = new ArrayList<>();
  private final Histogram scrapeMicros = new Histogram(3_600_000_000L, 2);
  private final List<BadScrape> badScrapes = new ArrayList<>();
  private long scrapes;
  private long badScrapeCount;
  private volatile boolean metricsUp;
  private long alertOffset;
  private final StringBuilder partial = new StringBuilder();

  /** Watches the kill switch of {@code target} (and every other), polling every 100 ms. */
  public AgentWatch(int metricsPort, Path alertLog, String target) {
    this(metricsPort, alertLog, target, Duration.ofMillis(100));
  }

  /**
   * @param target the target {@link #state()} and {@link #firstState(int, long)} speak of (may be
   *     null)
   * @param alertLog null: no alert log
   */
  public AgentWatch(int metricsPort, Path alertLog, String target, Duration every) {
    this.metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
    this.alertLog = alertLog;
    this.target = target;
    this.every = every;
    this.thread = new Thread(this::run, "agent-watch");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void run() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        scrape();
      } catch (InterruptedException e) {
        return;
      }
      readAlerts();
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Scrapes {@code /metrics} now, times it and records the kill switch states; null when it did not
   * answer 200 (before the agent's server is up, that is every scrape).
   */
  public PromText scrape() throws InterruptedException {
    long at = Clock.nowMicros();
    long start = System.nanoTime();
    String error = null;
    PromText parsed = null;
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) parsed = PromText.parse(r.body());
      else error = "HTTP " + r.statusCode();
    } catch (IOException | RuntimeException e) {
      error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
    long micros = (System.nanoTime() - start) / 1000;
    synchronized (this) {
      if (parsed != null) metricsUp = true;
      if (metricsUp) { // before the first answer the agent is starting, not slow
        scrapes++;
        scrapeMicros.recordValue(Math.min(micros, scrapeMicros.getHighestTrackableValue()));
        if (error != null || micros > SLOW_MILLIS * 1000) {
          badScrapeCount++;
          if (badScrapes.size() < MAX_BAD_SCRAPES)
            badScrapes.add(new BadScrape(at, micros / 1000, error));
        }
      }
      if (parsed != null) {
        long now = Clock.nowMicros();
        for (Map.Entry<String, Double> e :
            parsed.byLabel("firebreak_kill_switch_state", "target").entrySet()) {
          int s = e.getValue().intValue();
          Integer before = states.put(e.getKey(), s);
          if (before == null || before != s) {
            transitions
                .computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                .add(new Transition(now, s));
          }
        }
      }
    }
    return parsed;
  }

  private void readAlerts() {
    if (alertLog == null || !Files.exists(alertLog)) return;
    try (RandomAccessFile f = new RandomAccessFile(alertLog.toFile(), "r")) {
      if (f.length() <= alertOffset) return;
      f.seek(alertOffset);
      byte[] b = new byte[(int) Math.min(f.length() - alertOffset, 4 << 20)];
      f.readFully(b);
      alertOffset += b.length;
      partial.append(new String(b, StandardCharsets.UTF_8));
      int nl;
      while ((nl = partial.indexOf("\n")) >= 0) {
        String line = partial.substring(0, nl).trim();
        partial.delete(0, nl + 1);
        if (line.isEmpty()) continue;
        try {
          Map<String, Object> event = Json.parseObject(line);
          synchronized (this) {
            alerts.add(event);
            alertSeenMicros.add(Clock.nowMicros());
          }
        } catch (RuntimeException e) {
          // not an alert event line
        }
      }
    } catch (IOException e) {
      // try again on the next poll
    }
  }

  /**
   * The kill switch state of the watched target last seen: 0 closed, 1 open, 2 half-open, -1
   * unknown.
   */
  public int state() {
    return state(target);
  }

  /** The last seen kill switch state of {@code name}; -1 if it was never seen. */
  public synchronized int state(String name) {
    return states.getOrDefault(name, -1);
  }

  public boolean metricsUp() {
    return metricsUp;
  }

  /**
   * When the watched target's kill switch was first seen in {@code wanted} at or after {@code
   * sinceMicros}; -1 if never.
   */
  public long firstState(int wanted, long sinceMicros) {
    return firstState(target, wanted, sinceMicros);
  }

  public synchronized long firstState(String name, int wanted, long sinceMicros) {
    for (Transition t : transitions.getOrDefault(name, List.of())) {
      if (t.atMicros() >= sinceMicros && t.state() == wanted) return t.atMicros();
    }
    return -1;
  }

  /** Every change of {@code name}'s kill switch state seen so far, oldest first. */
  public synchronized List<Transition> transitions(String name) {
    return new ArrayList<>(transitions.getOrDefault(name, List.of()));
  }

  /** Scrapes since the agent's /metrics first answered, slow or failed ones included. */
  public synchronized long scrapes() {
    return scrapes;
  }

  /**
   * How many scrapes failed or took longer than {@link #SLOW_MILLIS}; the first of them in {@link
   * #badScrapes()}.
   */
  public synchronized long badScrapeCount() {
    return badScrapeCount;
  }

  public synchronized List<BadScrape> badScrapes() {
    return new ArrayList<>(badScrapes);
  }

  /** The time scrapes took (microseconds), since the agent's /metrics first answered. */
  public synchronized Histogram scrapeLatencies() {
    return scrapeMicros.copy();
  }

  /**
   * The first alert at or after {@code sinceMicros} (by its own time), with when it happened; null
   * if none.
   */
  public synchronized Map<String, Object> firstAlert(long sinceMicros) {
    for (int i = 0; i < alerts.size(); i++) {
      if (alertMicros(i) >= sinceMicros) return alerts.get(i);
    }
    return null;
  }

  /**
   * The first alert at or after {@code sinceMicros} (by its own time) that {@code which} accepts;
   * null if none.
   */
  public synchronized Map<String, Object> firstAlert(
      long sinceMicros, Predicate<Map<String, Object>> which) {
    for (int i = 0; i < alerts.size(); i++) {
      if (alertMicros(i) >= sinceMicros && which.test(alerts.get(i))) return alerts.get(i);
    }
    return null;
  }

  /** When alert {@code event} happened: its {@code time} field, or when it was read. */
  public synchronized long alertMicros(Map<String, Object> event) {
    int i = alerts.indexOf(event);
    return i < 0 ? -1 : alertMicros(i);
  }

  private long alertMicros(int i) {
    Object t = alerts.get(i).get("time");
    if (t instanceof String) {
      try {
        Instant at = Instant.parse((String) t);
        return at.getEpochSecond() * 1_000_000L + at.getNano() / 1000;
      } catch (RuntimeException e) {
        // fall through
      }
    }
    return alertSeenMicros.get(i);
  }

  public synchronized List<Map<String, Object>> alerts() {
    return new ArrayList<>(alerts);
  }

  @Override
  public void close() {
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    readAlerts();
  }
}
