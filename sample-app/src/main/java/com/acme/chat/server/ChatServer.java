package com.acme.chat.server;

import com.acme.chat.model.Message;
import com.acme.chat.pipeline.DeadLetters;
import com.acme.chat.pipeline.MessageParser;
import com.acme.chat.pipeline.MessageSerializer;
import com.acme.chat.pipeline.MessageStore;
import com.acme.chat.pipeline.Pipeline;
import com.acme.chat.pipeline.Workers;
import com.acme.chat.render.EmojiPack;
import com.acme.chat.render.EmojiRenderer;
import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;
import com.sun.management.GcInfo;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chat service: an HTTP API on the JDK's built-in server in front of the message pipeline.
 *
 * <pre>
 * POST /messages                      {"room":"general","author":"ana","text":"hi :wave:"} -> 202 {"id":"m-1"}
 * GET  /rooms/{room}/messages?after=SEQ&amp;limit=N  delivered messages, oldest first
 * GET  /health                        {"status":"ok"}
 * GET  /dead-letters                  {"count":N,"recent":[...]}
 * GET  /dead-letters?after=SEQ&amp;limit=N  every dead letter numbered above SEQ, oldest first
 * GET  /stats                         pipeline counters
 * GET  /debug/vm                      this JVM's totals: bytes allocated, CPU time, GCs, threads
 * POST /debug/gc                      a full GC, then the heap in use after it
 * GET  /admin/emoji-pack              the live pack
 * PUT  /admin/emoji-pack?name=NAME    deploy a shipped pack (default, bad-update, bad-update-loop)
 * PUT  /admin/emoji-pack              deploy the pack in the body (YAML or JSON)
 * POST /hooks/firebreak               Firebreak's webhook (only with serve --rollback-on-firebreak):
 *                                     a trip or fence soon after a pack change restores the pack before
 * </pre>
 */
public final class ChatServer implements AutoCloseable {
  static {
    // Send small responses at once (no Nagle delay); must be set before the JDK server loads its
    // config.
    if (System.getProperty("sun.net.httpserver.nodelay") == null)
      System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  /** Settings of the service (the {@code serve} command line). */
  public record Options(
      String host,
      int port,
      int workers,
      int queue,
      int maxRetries,
      Duration backoff,
      Duration backoffMax,
      Duration enqueueWait,
      Duration storeLatency,
      int httpThreads,
      String pack,
      int retain) {
    /**
     * The production configuration the outage happened with (max-retries is the misconfiguration).
     */
    public static Options defaults() {
      return new Options(
          "127.0.0.1",
          8080,
          8,
          256,
          DEFAULT_MAX_RETRIES,
          Duration.ofMillis(20),
          Duration.ofMillis(200),
          Duration.ofMillis(50),
          Duration.ofMillis(1),
          32,
          "default",
          MessageStore.RETAINED);
    }
  }

  /**
   * Retries per failed message. Production ran with this value; a sane one is 3. It is the second
   * half of the outage: with it, every poisoned message comes back this many times.
   */
  public static final int DEFAULT_MAX_RETRIES = 50;

  private final Options options;
  private final EmojiRenderer renderer;
  private final MessageStore store;
  private final DeadLetters deadLetters = new DeadLetters();
  private final Workers workers;
  private final HttpServer http;
  private final ExecutorService httpExecutor;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong badRequests = new AtomicLong();
  private volatile String packSource;
  private volatile long packChangedMicros = Clock.nowMicros();
  private volatile PackRollback rollback; // null: no webhook receiver
  private volatile URI firebreakAdmin; // where to close the switch after a rollback; null: leave it
  private volatile Path firebreakToken;
  private final long startedMicros = Clock.nowMicros();

  public ChatServer(Options options) throws IOException {
    this.options = options;
    this.store = new MessageStore(options.retain());
    this.renderer = new EmojiRenderer(EmojiPack.shipped(options.pack()));
    this.packSource = "shipped:" + options.pack();
    Pipeline pipeline =
        new Pipeline(
            new MessageParser(), renderer, new MessageSerializer(), store, options.storeLatency());
    this.workers =
        new Workers(
            pipeline,
            new Workers.Settings(
                options.workers(),
                options.queue(),
                options.maxRetries(),
                options.backoff(),
                options.backoffMax()),
            deadLetters);
    this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 512);
    AtomicInteger n = new AtomicInteger();
    this.httpExecutor =
        Executors.newFixedThreadPool(
            options.httpThreads(),
            r -> {
              Thread t = new Thread(r, "http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    http.setExecutor(httpExecutor);
    http.createContext("/", this::handle);
  }

  /**
   * Turns the webhook receiver on ({@link PackRollback}). With {@code admin} (Firebreak's admin
   * endpoints, e.g. {@code http://127.0.0.1:9464}) and its token file, a rollback also closes the
   * kill switch of the target that tripped: the restored pack renders at once instead of after the
   * switch's {@code open-for}.
   */
  public ChatServer rollBackOnFirebreak(Duration window, URI admin, Path tokenFile) {
    this.rollback = new PackRollback(window);
    this.firebreakAdmin = admin;
    this.firebreakToken = tokenFile;
    return this;
  }

  public ChatServer start() {
    http.start();
    return this;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  public EmojiRenderer renderer() {
    return renderer;
  }

  public Workers workers() {
    return workers;
  }

  public DeadLetters deadLetters() {
    return deadLetters;
  }

  @Override
  public void close() {
    http.stop(0);
    workers.close();
    httpExecutor.shutdownNow();
    try {
      httpExecutor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- routing

  private void handle(HttpExchange ex) throws IOException {
    try {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      Map<String, String> query = query(ex.getRequestURI().getRawQuery());
      if (path.equals("/messages")) {
        if (!method.equals("POST")) {
          methodNotAllowed(ex, "POST");
          return;
        }
        postMessage(ex);
      } else if (path.startsWith("/rooms/") && path.endsWith("/messages")) {
        if (!method.equals("GET")) {
          methodNotAllowed(ex, "GET");
          return;
        }
        String room = path.substring("/rooms/".length(), path.length() - "/messages".length());
        roomMessages(ex, room, query);
      } else if (path.equals("/health")) {
        send(ex, 200, Json.write(Json.obj("status", "ok")));
      } else if (path.equals("/dead-letters")) {
        deadLettersPage(ex, query);
      } else if (path.equals("/stats")) {
        send(ex, 200, Json.write(stats()));
      } else if (path.equals("/debug/vm")) {
        send(ex, 200, Json.write(vmStats()));
      } else if (path.equals("/debug/gc")) {
        if (!method.equals("POST")) {
          methodNotAllowed(ex, "POST");
          return;
        }
        send(ex, 200, Json.write(heapAfterGc()));
      } else if (path.equals("/hooks/firebreak") && rollback != null) {
        if (!method.equals("POST")) {
          methodNotAllowed(ex, "POST");
          return;
        }
        firebreakHook(ex);
      } else if (path.equals("/admin/emoji-pack")) {
        if (method.equals("GET")) send(ex, 200, Json.write(packInfo()));
        else if (method.equals("PUT") || method.equals("POST")) deployPack(ex, query);
        else methodNotAllowed(ex, "GET, PUT");
      } else {
        error(ex, 404, "no such resource: " + path);
      }
    } catch (RuntimeException e) {
      error(ex, 500, e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error(ex, 503, "shutting down");
    } finally {
      ex.close();
    }
  }

  private void postMessage(HttpExchange ex) throws IOException, InterruptedException {
    Map<String, Object> body;
    try {
      body = Json.parseObject(readBody(ex));
    } catch (Json.JsonException e) {
      badRequests.incrementAndGet();
      error(ex, 400, "body must be a JSON object {room, author, text}: " + e.getMessage());
      return;
    }
    Object room = body.get("room");
    Object author = body.get("author");
    Object text = body.get("text");
    if (!(room instanceof String) || !(author instanceof String) || !(text instanceof String)) {
      badRequests.incrementAndGet();
      error(ex, 400, "room, author and text are required strings");
      return;
    }
    Message m =
        new Message(
            "m-" + ids.incrementAndGet(),
            (String) room,
            (String) author,
            (String) text,
            null,
            Clock.nowMicros(),
            0);
    try {
      new MessageParser().parse(m); // reject what can never be delivered before queueing it
    } catch (MessageParser.InvalidMessageException e) {
      badRequests.incrementAndGet();
      error(ex, 400, e.getMessage());
      return;
    }
    if (workers.submit(m, options.enqueueWait())) {
      send(ex, 202, Json.write(Json.obj("id", m.id(), "status", "queued")));
    } else {
      ex.getResponseHeaders().set("Retry-After", "1");
      error(ex, 503, "pipeline queue is full, try again later");
    }
  }

  private void roomMessages(HttpExchange ex, String rawRoom, Map<String, String> query)
      throws IOException {
    String room = URLDecoder.decode(rawRoom, StandardCharsets.UTF_8);
    long after;
    int limit;
    try {
      after = Long.parseLong(query.getOrDefault("after", "0"));
      limit = Math.min(5000, Integer.parseInt(query.getOrDefault("limit", "1000")));
    } catch (NumberFormatException e) {
      error(ex, 400, "after and limit must be integers");
      return;
    }
    List<MessageStore.Stored> msgs = store.read(room, after, limit);
    StringBuilder b = new StringBuilder(64 + msgs.size() * 200);
    b.append("{\"room\":");
    Json.quote(b, room);
    b.append(",\"messages\":[");
    long last = after;
    for (int i = 0; i < msgs.size(); i++) {
      MessageStore.Stored s = msgs.get(i);
      if (i > 0) b.append(',');
      b.append("{\"seq\":")
          .append(s.seq())
          .append(",\"stored_at\":")
          .append(s.storedAtMicros())
          .append(",\"message\":")
          .append(s.json())
          .append('}');
      last = s.seq();
    }
    b.append("],\"last_seq\":").append(last).append('}');
    send(ex, 200, b.toString());
  }

  private void deadLettersPage(HttpExchange ex, Map<String, String> query) throws IOException {
    if (!query.containsKey("after")) {
      List<Object> recent = new ArrayList<>();
      for (DeadLetters.Entry e : deadLetters.recent()) recent.add(deadLetterJson(e));
      send(ex, 200, Json.write(Json.obj("count", deadLetters.count(), "recent", recent)));
      return;
    }
    long after;
    int limit;
    try {
      after = Long.parseLong(query.get("after"));
      limit = Math.min(5000, Integer.parseInt(query.getOrDefault("limit", "1000")));
    } catch (NumberFormatException e) {
      error(ex, 400, "after and limit must be integers");
      return;
    }
    List<Object> entries = new ArrayList<>();
    long last = after;
    for (DeadLetters.Entry e : deadLetters.after(after, limit)) {
      entries.add(deadLetterJson(e));
      last = e.seq();
    }
    send(
        ex,
        200,
        Json.write(Json.obj("count", deadLetters.count(), "entries", entries, "last_seq", last)));
  }

  private static Map<String, Object> deadLetterJson(DeadLetters.Entry e) {
    return Json.obj(
        "seq",
        e.seq(),
        "id",
        e.id(),
        "room",
        e.room(),
        "author",
        e.author(),
        "attempts",
        e.attempts(),
        "error",
        e.error(),
        "at",
        e.atMicros());
  }

  private Map<String, Object> stats() {
    return Json.obj(
        "accepted", workers.accepted(),
        "rejected", workers.rejected(),
        "bad_requests", badRequests.get(),
        "delivered", workers.delivered(),
        "failed_attempts", workers.failedAttempts(),
        "retries", workers.retries(),
        "stack_overflows", workers.stackOverflows(),
        "first_stack_overflow_us",
            workers.firstStackOverflowMicros() == 0 ? null : workers.firstStackOverflowMicros(),
        "workers_backing_off", workers.backingOff(),
        "dead_lettered", deadLetters.count(),
        "queue_depth", workers.queueDepth(),
        "queue_capacity", options.queue(),
        "in_flight", workers.inFlight(),
        "workers", options.workers(),
        "max_retries", options.maxRetries(),
        "rooms", store.roomCount(),
        "pack", renderer.pack().toString(),
        "uptime_s", (Clock.nowMicros() - startedMicros) / 1_000_000);
  }

  /**
   * Totals of this JVM since it started, for measuring the service from outside (the benchmarks
   * read them before and after a load phase and take the difference): {@code allocated_bytes} is
   * the heap memory allocated by all threads, live and exited ({@code
   * com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}, -1 where the JVM does not
   * support it); {@code process_cpu_ns} the CPU time of the whole process, user and system (-1
   * where unsupported); {@code gc_count} and {@code gc_time_ms} summed over all collectors; {@code
   * threads} the live threads now.
   */
  static Map<String, Object> vmStats() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long allocated = -1;
    if (threads instanceof com.sun.management.ThreadMXBean) {
      com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) threads;
      if (t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
        allocated = t.getTotalThreadAllocatedBytes();
      }
    }
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    long cpu =
        os instanceof com.sun.management.OperatingSystemMXBean
            ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime()
            : -1;
    long gcCount = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcCount += Math.max(0, gc.getCollectionCount());
      gcMillis += Math.max(0, gc.getCollectionTime());
    }
    return Json.obj(
        "allocated_bytes", allocated,
        "process_cpu_ns", cpu,
        "gc_count", gcCount,
        "gc_time_ms", gcMillis,
        "threads", threads.getThreadCount(),
        "uptime_ms", ManagementFactory.getRuntimeMXBean().getUptime());
  }

  /**
   * Runs a full GC ({@code System.gc()}, which is one unless the JVM was told otherwise) and
   * returns the heap in use right after it: {@code heap_used_after_gc_bytes} from the JVM's record
   * of that collection (summed over the heap pools), -1 where the JVM keeps none; {@code
   * heap_used_bytes} and {@code heap_committed_bytes} as read a moment later. Tells a leak (what
   * survives a full GC keeps growing) from garbage.
   */
  static Map<String, Object> heapAfterGc() {
    List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
    long[] before = new long[collectors.size()];
    for (int i = 0; i < before.length; i++) before[i] = collectors.get(i).getCollectionCount();
    long start = System.nanoTime();
    System.gc();
    long gcMillis = (System.nanoTime() - start) / 1_000_000;
    Set<String> heapPools = new HashSet<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) heapPools.add(pool.getName());
    }
    // the last collection of a collector that ran since System.gc() was called (GcInfo's
    // times are not on the clock of RuntimeMXBean's uptime, so counts tell which ran)
    GcInfo latest = null;
    for (int i = 0; i < before.length; i++) {
      if (collectors.get(i) instanceof com.sun.management.GarbageCollectorMXBean gc
          && gc.getCollectionCount() > before[i]) {
        GcInfo info = gc.getLastGcInfo();
        if (info != null && (latest == null || info.getEndTime() > latest.getEndTime()))
          latest = info;
      }
    }
    long afterGc = -1;
    if (latest != null) {
      afterGc = 0;
      for (Map.Entry<String, MemoryUsage> e : latest.getMemoryUsageAfterGc().entrySet()) {
        if (heapPools.contains(e.getKey())) afterGc += e.getValue().getUsed();
      }
    }
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return Json.obj(
        "heap_used_after_gc_bytes",
        afterGc,
        "heap_used_bytes",
        heap.getUsed(),
        "heap_committed_bytes",
        heap.getCommitted(),
        "gc_ms",
        gcMillis);
  }

  private Map<String, Object> packInfo() {
    EmojiPack p = renderer.pack();
    return Json.obj(
        "name",
        p.name(),
        "version",
        p.version(),
        "source",
        packSource,
        "changed_at",
        packChangedMicros,
        "max_alias_depth",
        p.maxAliasDepth(),
        "alias_resolution",
        p.resolution().name().toLowerCase(),
        "emojis",
        p.emojis().size(),
        "aliases",
        p.aliases().size());
  }

  private void deployPack(HttpExchange ex, Map<String, String> query) throws IOException {
    String name = query.get("name");
    EmojiPack pack;
    String source;
    try {
      if (name != null) {
        pack = EmojiPack.shipped(name);
        source = "shipped:" + name;
      } else {
        String body = readBody(ex);
        if (body.isBlank()) {
          error(
              ex,
              400,
              "give ?name=PACK (one of "
                  + String.join(", ", EmojiPack.SHIPPED)
                  + ") or a pack document as the body");
          return;
        }
        pack = EmojiPack.parse(body);
        source = "uploaded";
      }
    } catch (EmojiPack.PackException e) {
      error(ex, 400, e.getMessage());
      return;
    }
    EmojiPack previous = renderer.deploy(pack);
    packSource = source;
    packChangedMicros = Clock.nowMicros();
    PackRollback r = rollback;
    if (r != null) r.deployed(previous, pack, packChangedMicros);
    System.err.printf("emoji pack deployed: %s (%s), replacing %s%n", pack, source, previous);
    Map<String, Object> info = packInfo();
    info.put("previous", previous.toString());
    send(ex, 200, Json.write(info));
  }

  private void firebreakHook(HttpExchange ex) throws IOException {
    Map<String, Object> event;
    try {
      event = Json.parseObject(readBody(ex));
    } catch (Json.JsonException e) {
      error(ex, 400, "body must be one Firebreak alert event (JSON): " + e.getMessage());
      return;
    }
    PackRollback.Decision d = rollback.onEvent(event, Clock.nowMicros());
    if (d.rolledBack()) {
      EmojiPack bad = renderer.deploy(d.restored());
      packSource = "rollback:" + bad;
      packChangedMicros = Clock.nowMicros();
      System.err.printf(
          "emoji pack rolled back: %s -> %s, because %s%n", bad, d.restored(), d.reason());
      Object target = event.get("target");
      if (firebreakAdmin != null && target instanceof String t) closeSwitch(t);
    }
    send(
        ex,
        200,
        Json.write(
            Json.obj(
                "rolled_back",
                d.rolledBack(),
                "reason",
                d.reason(),
                "pack",
                renderer.pack().toString())));
  }

  /** Asks Firebreak to close {@code target}'s kill switch, off the webhook's thread. */
  private void closeSwitch(String target) {
    String token;
    try {
      token = Files.readString(firebreakToken, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      System.err.printf("emoji pack rollback: cannot read the Firebreak token: %s%n", e);
      return;
    }
    URI uri =
        firebreakAdmin.resolve(
            "/targets/" + URLEncoder.encode(target, StandardCharsets.UTF_8) + "/close");
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(5))
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    HttpClient.newHttpClient()
        .sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (resp, err) ->
                System.err.printf(
                    "emoji pack rollback: closing Firebreak's switch of %s: %s%n",
                    target, err != null ? err.toString() : "HTTP " + resp.statusCode()));
  }

  // ---------------------------------------------------------------- helpers

  private static String readBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] b = in.readNBytes(1 << 20);
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) return q;
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      String v = eq < 0 ? "" : part.substring(eq + 1);
      q.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return q;
  }

  private static void methodNotAllowed(HttpExchange ex, String allowed) throws IOException {
    ex.getResponseHeaders().set("Allow", allowed);
    error(ex, 405, "method not allowed; use " + allowed);
  }

  private static void error(HttpExchange ex, int status, String message) throws IOException {
    send(ex, status, Json.write(Json.obj("error", message)));
  }

  private static void send(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }
}
