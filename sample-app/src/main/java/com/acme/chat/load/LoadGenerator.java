package com.acme.chat.load;

import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * An open-loop load generator: messages are sent on a fixed schedule ({@code rate} a second)
 * whatever the server does, so a stalled server shows up as errors and latency, not as a politely
 * slowed client. A message counts as delivered only when it can be read back from its room within
 * the deadline; its latency is from the moment it was scheduled to be sent to the moment the server
 * made it readable (both clocks of this machine).
 *
 * <p>A run can be split into named phases ({@link #phase(String)}); each message belongs to the
 * phase in which it was sent, and the result has one summary per phase. The sending can be paused
 * ({@link #pause()}): the schedule stops, and resumes where it stopped (nothing is sent to catch
 * up).
 */
public final class LoadGenerator {
  public record Options(
      URI target,
      double rate,
      Duration duration,
      int rooms,
      Duration deadline,
      Duration requestTimeout,
      long seed,
      double emojiPct,
      double celebrationPct) {
    public static Options defaults(URI target) {
      return new Options(
          target,
          200,
          Duration.ofSeconds(60),
          4,
          Duration.ofSeconds(5),
          Duration.ofSeconds(3),
          42,
          25,
          5);
    }

    public Options withRate(double r) {
      return new Options(
          target, r, duration, rooms, deadline, requestTimeout, seed, emojiPct, celebrationPct);
    }

    public Options withDuration(Duration d) {
      return new Options(
          target, rate, d, rooms, deadline, requestTimeout, seed, emojiPct, celebrationPct);
    }

    public Options withRequestTimeout(Duration t) {
      return new Options(
          target, rate, duration, rooms, deadline, t, seed, emojiPct, celebrationPct);
    }
  }

  /** Counts and latencies of the messages sent in one phase. */
  public static final class PhaseStats {
    final String name;
    long sent;
    long delivered;
    long rejected; // the POST was answered with an error status (e.g. 503 queue full)
    long errors; // the POST failed or timed out
    long late; // readable, but after the deadline
    long lost; // accepted, never readable within the deadline
    long withEmoji; // sent with an emoji shortcode
    long emojiRendered; // of those, delivered within the deadline with the shortcodes rendered
    final Histogram latencyMicros = new Histogram(3_600_000_000L, 3);
    // the phase's stretch of the schedule: its first message's scheduled send, and one period
    // after its last one's (wall clock, microseconds since the epoch; -1 before the first send)
    long firstSendMicros = -1;
    long scheduleEndMicros = -1;

    PhaseStats(String name) {
      this.name = name;
    }

    void sent(long intendedMicros, long periodMicros) {
      sent++;
      if (firstSendMicros < 0) firstSendMicros = intendedMicros;
      scheduleEndMicros = intendedMicros + periodMicros;
    }

    public synchronized Summary summary() {
      long failed = rejected + errors + late + lost;
      return new Summary(
          name,
          sent,
          delivered,
          failed,
          rejected,
          errors,
          late,
          lost,
          sent == 0 ? 0 : 100.0 * delivered / sent,
          ms(latencyMicros.getValueAtPercentile(50)),
          ms(latencyMicros.getValueAtPercentile(99)),
          ms(latencyMicros.getMaxValue()),
          withEmoji,
          emojiRendered);
    }

    /**
     * A copy of the latencies (microseconds), time-stamped with the phase's stretch of the schedule
     * (milliseconds since the epoch) and tagged with the phase's name.
     */
    public synchronized Histogram latencies() {
      Histogram h = latencyMicros.copy();
      h.setStartTimeStamp(Math.max(0, firstSendMicros) / 1000);
      h.setEndTimeStamp(Math.max(0, scheduleEndMicros) / 1000);
      h.setTag(name);
      return h;
    }

    private static double ms(long micros) {
      return Math.round(micros / 10.0) / 100.0;
    }
  }

  /** The outcome of one phase (or of the whole run). */
  public record Summary(
      String phase,
      long sent,
      long delivered,
      long failed,
      long rejected,
      long errors,
      long late,
      long lost,
      double successPct,
      double p50Ms,
      double p99Ms,
      double maxMs,
      long withEmoji,
      long emojiRendered) {
    /**
     * Of the messages sent with an emoji shortcode, the share delivered in time with it rendered
     * (100 when there were none).
     */
    public double renderedPct() {
      return withEmoji == 0 ? 100.0 : 100.0 * emojiRendered / withEmoji;
    }

    /** The JSON line of {@code load --json}. */
    public String json() {
      return Json.write(
          Json.obj(
              "sent",
              sent,
              "delivered",
              delivered,
              "failed",
              failed,
              "success_pct",
              round2(successPct),
              "p50_ms",
              p50Ms,
              "p99_ms",
              p99Ms,
              "max_ms",
              maxMs,
              "rendered_pct",
              round2(renderedPct())));
    }

    public String describe() {
      return String.format(
          "sent %d, delivered %d (%.2f %%), failed %d (rejected %d, errors %d, late %d, lost %d); "
              + "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
          sent, delivered, successPct, failed, rejected, errors, late, lost, p50Ms, p99Ms, maxMs);
    }

    private static double round2(double d) {
      return Math.round(d * 100) / 100.0;
    }
  }

  /**
   * The result of a run: one summary per phase in order, and the total; and the latencies each
   * summary was computed from ({@link PhaseStats#latencies()}, copied together with the summary).
   */
  public record Result(
      Map<String, Summary> phases,
      Summary total,
      Map<String, Histogram> phaseLatencies,
      Histogram totalLatencies) {}

  private record Pending(long intendedMicros, PhaseStats phase, boolean emoji) {}

  /** A message read back before the answer to its POST arrived. */
  private record Seen(long storedAtMicros, boolean rendered) {}

  /** An emoji shortcode such as {@code :tada:}. */
  private static final Pattern SHORTCODE = Pattern.compile(":[a-z0-9_+-]+:");

  /**
   * The latest scheduled send time of a message with an emoji shortcode that its user did not see
   * rendered (not delivered in time, or delivered with the shortcode as it was typed); -1: none.
   */
  private final AtomicLong lastUnrenderedMicros = new AtomicLong(-1);

  private final Timeline timeline = new Timeline();

  private final Options options;
  private final HttpClient client;
  private final ExecutorService clientExecutor;
  private final MessageMix mix;
  private final long periodNanos;
  private final Map<String, PhaseStats> phases = new LinkedHashMap<>();
  private final PhaseStats total = new PhaseStats("total");
  private volatile PhaseStats current;
  private volatile boolean stop;

  // Messages accepted by the server and not yet seen in their room, and messages seen in a
  // room before the POST's answer arrived (the pipeline can be faster than the HTTP reply).
  private final Map<String, Pending> awaiting = new HashMap<>();
  private final Map<String, Seen> seenEarly = new HashMap<>();
  private final Object matchLock = new Object();
  private final AtomicInteger postsInFlight = new AtomicInteger();
  private final Map<String, Long> lastSeq = new ConcurrentHashMap<>();
  // with keepLost: messages past their deadline, until they show up in their room (then late)
  private volatile boolean keepLost;
  private final Map<String, Pending> expired = new HashMap<>();
  private volatile boolean paused;
  private Thread background;
  private volatile Result backgroundResult;
  private volatile long pollCycles;

  public LoadGenerator(Options options) {
    this.options = options;
    AtomicInteger n = new AtomicInteger();
    this.clientExecutor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "load-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(options.requestTimeout())
            .executor(clientExecutor)
            .build();
    this.mix =
        new MessageMix(
            options.seed(), options.rooms(), options.emojiPct(), options.celebrationPct());
    this.periodNanos = (long) (1_000_000_000L / options.rate());
    phase("load");
  }

  private volatile long nextPhaseAt = -1;
  private volatile String nextPhase;
  private volatile Runnable onNextPhase;

  /**
   * Messages scheduled {@code offset} or more after the start of {@link #run()} belong to phase
   * {@code name}; {@code onStart} runs (on the sending thread) right before the first of them is
   * sent. One such switch per run: a warm-up followed by the measured phase.
   */
  public void phaseAt(Duration offset, String name, Runnable onStart) {
    nextPhase = name;
    onNextPhase = onStart;
    nextPhaseAt = offset.toNanos();
  }

  /** Messages sent from now on belong to phase {@code name}. */
  public synchronized void phase(String name) {
    current = phases.computeIfAbsent(name, PhaseStats::new);
  }

  /** Ends the sending early (the run then drains as usual). */
  public void stop() {
    stop = true;
  }

  /** Runs {@link #run()} on a thread of its own, named {@code name}; {@link #finish()} ends it. */
  public void start(String name) {
    background =
        new Thread(
            () -> {
              try {
                backgroundResult = run();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            name);
    background.start();
  }

  /**
   * Ends a {@link #start}ed run: stops the sending, waits for the drain; its result (null if it was
   * interrupted).
   */
  public Result finish() throws InterruptedException {
    stop();
    background.join();
    return backgroundResult;
  }

  /** Stops sending until {@link #resume()}; the rooms are still read. */
  public void pause() {
    paused = true;
  }

  /** Sends again, on the schedule shifted by the length of the pause. */
  public void resume() {
    paused = false;
  }

  /** Every message sent so far has been answered and resolved (delivered, or past its deadline). */
  public boolean quiet() {
    synchronized (matchLock) {
      return postsInFlight.get() == 0 && awaiting.isEmpty();
    }
  }

  /**
   * Rounds of reading every room so far: one that starts after a moment has seen all that was
   * readable then.
   */
  public long pollCycles() {
    return pollCycles;
  }

  /**
   * Keeps the ids of accepted messages that passed their deadline unseen: one that shows up in its
   * room later counts as late instead of lost, and {@link #lost()} names the rest. Call before
   * {@link #run()}.
   */
  public void keepLost() {
    keepLost = true;
  }

  /**
   * With {@link #keepLost()}: the accepted messages never seen in their room so far, id -> phase.
   */
  public Map<String, String> lost() {
    Map<String, String> out = new LinkedHashMap<>();
    synchronized (matchLock) {
      for (Map.Entry<String, Pending> e : expired.entrySet())
        out.put(e.getKey(), e.getValue().phase.name);
    }
    return out;
  }

  /** Counts so far of one phase (for progress lines); null if the phase has not started. */
  public Summary snapshot(String phase) {
    PhaseStats p;
    synchronized (this) {
      p = phases.get(phase);
    }
    return p == null ? null : p.summary();
  }

  /** Sends for the configured duration, then waits until every message is resolved. */
  public Result run() throws InterruptedException {
    Thread poller = new Thread(this::poll, "load-poller");
    poller.setDaemon(true);
    poller.start();
    try {
      long period = periodNanos;
      long durationNanos = options.duration().toNanos();
      // the schedule runs on nanoTime, latencies are against the server's wall clock: pin the
      // two together at one instant. The first wall-clock reads of a fresh JVM are slow (they
      // load and initialise classes), and a pin taken across them put every intended time
      // late by up to milliseconds, which is all of a p50; so take the tightest of a few reads.
      long start = 0;
      long startMicros = 0;
      long tightest = Long.MAX_VALUE;
      for (int k = 0; k < 5; k++) {
        long before = System.nanoTime();
        long wall = Clock.nowMicros();
        long after = System.nanoTime();
        if (after - before < tightest) {
          tightest = after - before;
          start = before + (after - before) / 2;
          startMicros = wall;
        }
      }
      long pausedNanos = 0; // the schedule is shifted by the pauses so far
      for (long i = 0; !stop; i++) {
        long offset = i * period;
        if (offset >= durationNanos) break;
        long wait = start + pausedNanos + offset - System.nanoTime();
        if (wait > 0) LockSupport.parkNanos(wait);
        if (paused) {
          long from = System.nanoTime();
          while (paused && !stop) LockSupport.parkNanos(1_000_000L);
          if (stop) break;
          pausedNanos += System.nanoTime() - from;
        }
        if (nextPhaseAt >= 0 && offset >= nextPhaseAt) {
          nextPhaseAt = -1;
          phase(nextPhase);
          if (onNextPhase != null) onNextPhase.run();
        }
        send(startMicros + (pausedNanos + offset) / 1000);
      }
      // drain: answers to the last POSTs, then the last deliveries (or their deadlines)
      long drainUntil =
          System.nanoTime()
              + options.requestTimeout().toNanos()
              + options.deadline().toNanos()
              + 1_000_000_000L;
      while (System.nanoTime() < drainUntil) {
        boolean done;
        synchronized (matchLock) {
          done = postsInFlight.get() == 0 && awaiting.isEmpty();
        }
        if (done) break;
        Thread.sleep(20);
      }
    } finally {
      stop = true;
      poller.interrupt();
      poller.join(2000);
    }
    synchronized (matchLock) {
      for (Pending p : awaiting.values()) {
        count(p.phase, s -> s.lost++);
        if (p.emoji) unrendered(p.intendedMicros);
      }
      if (keepLost) expired.putAll(awaiting);
      awaiting.clear();
    }
    // POSTs still unanswered after the drain (only when the client itself is stuck)
    int unanswered = postsInFlight.getAndSet(0);
    if (unanswered > 0)
      System.err.println("load: " + unanswered + " requests still unanswered at the end");
    clientExecutor.shutdownNow();
    Map<String, Summary> out = new LinkedHashMap<>();
    Map<String, Histogram> latencies = new LinkedHashMap<>();
    synchronized (this) {
      for (PhaseStats p : phases.values()) {
        synchronized (p) { // the summary and the copy of its histogram at one instant
          if (p.sent > 0) {
            out.put(p.name, p.summary());
            latencies.put(p.name, p.latencies());
          }
        }
      }
    }
    synchronized (total) {
      return new Result(out, total.summary(), latencies, total.latencies());
    }
  }

  private interface Update {
    void apply(PhaseStats s);
  }

  private void count(PhaseStats phase, Update u) {
    synchronized (phase) {
      u.apply(phase);
    }
    synchronized (total) {
      u.apply(total);
    }
  }

  private void send(long intendedMicros) {
    PhaseStats phase = current;
    count(phase, s -> s.sent(intendedMicros, periodNanos / 1000));
    timeline.sent(intendedMicros);
    MessageMix.Post post = mix.next();
    boolean emoji = SHORTCODE.matcher(post.text()).find();
    if (emoji) count(phase, s -> s.withEmoji++);
    String body =
        Json.write(Json.obj("room", post.room(), "author", post.author(), "text", post.text()));
    HttpRequest req =
        HttpRequest.newBuilder(options.target().resolve("/messages"))
            .timeout(options.requestTimeout())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    postsInFlight.incrementAndGet();
    client
        .sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (resp, err) -> {
              try {
                if (err != null) {
                  count(phase, s -> s.errors++);
                  if (emoji) unrendered(intendedMicros);
                } else if (resp.statusCode() != 202) {
                  count(phase, s -> s.rejected++);
                  if (emoji) unrendered(intendedMicros);
                } else {
                  String id = String.valueOf(Json.parseObject(resp.body()).get("id"));
                  Pending p = new Pending(intendedMicros, phase, emoji);
                  Seen seen;
                  synchronized (matchLock) {
                    seen = seenEarly.remove(id);
                    if (seen == null) awaiting.put(id, p);
                  }
                  if (seen != null) delivered(p, seen.storedAtMicros(), seen.rendered());
                }
              } catch (RuntimeException e) {
                count(phase, s -> s.errors++);
                if (emoji) unrendered(intendedMicros);
              } finally {
                postsInFlight.decrementAndGet();
              }
            });
  }

  private void delivered(Pending p, long storedAtMicros, boolean rendered) {
    long latency = Math.max(0, storedAtMicros - p.intendedMicros);
    boolean late = latency > options.deadline().toNanos() / 1000;
    if (p.emoji) {
      if (rendered && !late) count(p.phase, s -> s.emojiRendered++);
      else unrendered(p.intendedMicros);
    }
    if (late) {
      count(p.phase, s -> s.late++);
    } else {
      timeline.delivered(p.intendedMicros, latency);
      count(
          p.phase,
          s -> {
            s.delivered++;
            s.latencyMicros.recordValue(
                Math.min(latency, s.latencyMicros.getHighestTrackableValue()));
          });
    }
  }

  /** Reads the rooms back: every new message matched to what was sent. */
  private void poll() {
    List<String> rooms = mix.rooms();
    while (!Thread.currentThread().isInterrupted()) {
      long cycleStart = System.nanoTime();
      for (String room : rooms) {
        try {
          readRoom(room);
        } catch (IOException | RuntimeException e) {
          // a failed read is retried on the next cycle; the deadline decides
        } catch (InterruptedException e) {
          return;
        }
      }
      expire();
      pollCycles++;
      long sleep = 100_000_000L - (System.nanoTime() - cycleStart);
      if (sleep > 0) LockSupport.parkNanos(sleep);
      if (stop && postsInFlight.get() == 0) {
        synchronized (matchLock) {
          if (awaiting.isEmpty()) return;
        }
      }
    }
  }

  private void readRoom(String room) throws IOException, InterruptedException {
    while (true) {
      long after = lastSeq.getOrDefault(room, 0L);
      URI uri =
          options
              .target()
              .resolve(
                  "/rooms/"
                      + URLEncoder.encode(room, StandardCharsets.UTF_8)
                      + "/messages?limit=2000&after="
                      + after);
      HttpResponse<String> resp =
          client.send(
              HttpRequest.newBuilder(uri).timeout(options.requestTimeout()).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200) return;
      Map<String, Object> page = Json.parseObject(resp.body());
      List<?> msgs = (List<?>) page.get("messages");
      List<Object[]> matched = new ArrayList<>();
      synchronized (matchLock) {
        for (Object o : msgs) {
          Map<?, ?> entry = (Map<?, ?>) o;
          long storedAt = ((Number) entry.get("stored_at")).longValue();
          Map<?, ?> message = (Map<?, ?>) entry.get("message");
          String id = String.valueOf(message.get("id"));
          // rendered: the text delivered is not the text typed (the renderer replaced a shortcode)
          boolean rendered = !String.valueOf(message.get("text")).equals(message.get("raw"));
          Pending p = awaiting.remove(id);
          if (p != null) matched.add(new Object[] {p, storedAt, rendered});
          else if (keepLost && (p = expired.remove(id)) != null)
            count(
                p.phase,
                s -> {
                  s.lost--;
                  s.late++;
                });
          else seenEarly.put(id, new Seen(storedAt, rendered));
        }
      }
      for (Object[] m : matched) delivered((Pending) m[0], (Long) m[1], (Boolean) m[2]);
      lastSeq.put(room, ((Number) page.get("last_seq")).longValue());
      if (msgs.size() < 2000) return;
    }
  }

  /** Accepted messages past their deadline are lost; stale early sightings are dropped. */
  private void expire() {
    long now = Clock.nowMicros();
    long deadline = options.deadline().toNanos() / 1000;
    List<Pending> lost = new ArrayList<>();
    synchronized (matchLock) {
      Iterator<Map.Entry<String, Pending>> it = awaiting.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, Pending> e = it.next();
        Pending p = e.getValue();
        if (now - p.intendedMicros
            > deadline + 500_000) { // half a second of grace for the poll cycle
          lost.add(p);
          if (keepLost) expired.put(e.getKey(), p);
          it.remove();
        }
      }
      if (seenEarly.size() > 100_000) seenEarly.clear(); // messages of other clients; never matched
    }
    for (Pending p : lost) {
      count(p.phase, s -> s.lost++);
      if (p.emoji) unrendered(p.intendedMicros);
    }
  }

  private void unrendered(long intendedMicros) {
    lastUnrenderedMicros.accumulateAndGet(intendedMicros, Math::max);
  }

  /**
   * The latest scheduled send time (microseconds since the epoch) of a message with an emoji
   * shortcode that was not delivered in time with it rendered; -1 when every one was.
   */
  public long lastUnrenderedMicros() {
    return lastUnrenderedMicros.get();
  }

  /** Sent, delivered and p99 per second of the schedule (for the replay's report). */
  public List<Timeline.Second> timeline() {
    return timeline.seconds();
  }

  /** Closes the HTTP client's threads (when {@link #run} was never called). */
  public void close() {
    clientExecutor.shutdownNow();
    try {
      clientExecutor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
