package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.acme.chat.MainAccess;
import com.acme.chat.load.LoadGenerator;
import com.acme.chat.server.ChatServer;
import com.acme.chat.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API end to end, against a service in this JVM (good packs only). */
class ChatServiceIT {
  static ChatServer server;
  static HttpClient http = HttpClient.newHttpClient();
  static URI base;

  @BeforeAll
  static void start() throws Exception {
    ChatServer.Options d = ChatServer.Options.defaults();
    server =
        new ChatServer(
                new ChatServer.Options(
                    "127.0.0.1",
                    0,
                    2,
                    64,
                    3,
                    d.backoff(),
                    d.backoffMax(),
                    d.enqueueWait(),
                    d.storeLatency(),
                    4,
                    "default",
                    d.retain()))
            .start();
    base = URI.create("http://127.0.0.1:" + server.port() + "/");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5));
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> room(String room) throws Exception {
    HttpResponse<String> r = send("GET", "/rooms/" + room + "/messages", null);
    assertThat(r.statusCode()).isEqualTo(200);
    return (List<Map<String, Object>>) Json.parseObject(r.body()).get("messages");
  }

  @Test
  void health() throws Exception {
    HttpResponse<String> r = send("GET", "/health", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"status\":\"ok\"}");
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
  }

  @SuppressWarnings("unchecked")
  @Test
  void postedMessagesCanBeReadBackWithEmojisRendered() throws Exception {
    HttpResponse<String> r =
        send(
            "POST",
            "/messages",
            "{\"room\":\"launch\",\"author\":\"ana\",\"text\":\"we shipped :rocket: :tada: :rofl: :nope:\"}");
    assertThat(r.statusCode()).isEqualTo(202);
    String id = (String) Json.parseObject(r.body()).get("id");
    // Workers store messages in the order they finish them (several workers, retries), so the
    // second message is posted once the first is stored: the test is about read-back and paging.
    await().atMost(Duration.ofSeconds(5)).until(() -> room("launch").size() == 1);
    send("POST", "/messages", "{\"room\":\"launch\",\"author\":\"bo\",\"text\":\"second\"}");
    await().atMost(Duration.ofSeconds(5)).until(() -> room("launch").size() == 2);
    List<Map<String, Object>> msgs = room("launch");
    Map<String, Object> first = (Map<String, Object>) msgs.get(0).get("message");
    assertThat(first)
        .containsEntry("id", id)
        .containsEntry("room", "launch")
        .containsEntry("author", "ana")
        .containsEntry("text", "we shipped 🚀 🎉 😂 :nope:")
        .containsEntry("raw", "we shipped :rocket: :tada: :rofl: :nope:");
    assertThat(msgs.get(0)).containsEntry("seq", 1L).containsKey("stored_at");
    assertThat(((Map<String, Object>) msgs.get(1).get("message"))).containsEntry("text", "second");
    // paging
    HttpResponse<String> after = send("GET", "/rooms/launch/messages?after=1", null);
    assertThat((List<?>) Json.parseObject(after.body()).get("messages")).hasSize(1);
    assertThat(Json.parseObject(after.body())).containsEntry("last_seq", 2L);
    assertThat(room("empty-room")).isEmpty();
  }

  @Test
  void badRequestsAreRejected() throws Exception {
    assertThat(send("POST", "/messages", "{not json").statusCode()).isEqualTo(400);
    assertThat(send("POST", "/messages", "{\"room\":\"a\",\"author\":\"b\"}").statusCode())
        .isEqualTo(400);
    assertThat(
            send("POST", "/messages", "{\"room\":\"a b\",\"author\":\"b\",\"text\":\"x\"}")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            send("POST", "/messages", "{\"room\":\"a\",\"author\":\"b\",\"text\":\"   \"}")
                .statusCode())
        .isEqualTo(400);
    assertThat(send("GET", "/messages", null).statusCode()).isEqualTo(405);
    assertThat(send("GET", "/nowhere", null).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/rooms/a/messages?after=x", null).statusCode()).isEqualTo(400);
  }

  @Test
  void statsAndDeadLetters() throws Exception {
    Map<String, Object> dl = Json.parseObject(send("GET", "/dead-letters", null).body());
    assertThat(dl).containsEntry("count", 0L).containsEntry("recent", List.of());
    Map<String, Object> stats = Json.parseObject(send("GET", "/stats", null).body());
    assertThat(stats)
        .containsKeys(
            "accepted",
            "rejected",
            "delivered",
            "failed_attempts",
            "retries",
            "dead_lettered",
            "queue_depth",
            "queue_capacity",
            "in_flight",
            "workers",
            "max_retries",
            "pack");
    assertThat(stats).containsEntry("max_retries", 3L).containsEntry("queue_capacity", 64L);
  }

  @Test
  void debugGcReportsTheHeapInUseAfterAFullCollection() throws Exception {
    assertThat(send("GET", "/debug/gc", null).statusCode()).isEqualTo(405);
    HttpResponse<String> r = send("POST", "/debug/gc", "");
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Object> gc = Json.parseObject(r.body());
    long afterGc = ((Number) gc.get("heap_used_after_gc_bytes")).longValue();
    long committed = ((Number) gc.get("heap_committed_bytes")).longValue();
    assertThat(afterGc).as(r.body()).isPositive().isLessThanOrEqualTo(committed);
  }

  @Test
  void packsCanBeDeployedAtRuntime() throws Exception {
    try {
      HttpResponse<String> custom =
          send(
              "PUT",
              "/admin/emoji-pack",
              "name: custom\nversion: 7\nemojis: {ok: \"👌\"}\naliases: {fine: ok}\n");
      assertThat(custom.statusCode()).isEqualTo(200);
      assertThat(Json.parseObject(custom.body()))
          .containsEntry("name", "custom")
          .containsEntry("source", "uploaded");
      send(
          "POST",
          "/messages",
          "{\"room\":\"packs\",\"author\":\"ana\",\"text\":\":fine: :smile:\"}");
      await().atMost(Duration.ofSeconds(5)).until(() -> room("packs").size() == 1);
      assertThat(room("packs").get(0).get("message").toString()).contains("text=👌 :smile:");

      assertThat(send("PUT", "/admin/emoji-pack", "name: broken\naliases: {a: b}").statusCode())
          .isEqualTo(400);
      assertThat(send("PUT", "/admin/emoji-pack?name=nope", null).statusCode()).isEqualTo(400);
      assertThat(send("PUT", "/admin/emoji-pack", "").statusCode()).isEqualTo(400);
    } finally {
      HttpResponse<String> back = send("PUT", "/admin/emoji-pack?name=default", null);
      assertThat(back.statusCode()).isEqualTo(200);
      assertThat(Json.parseObject(send("GET", "/admin/emoji-pack", null).body()))
          .containsEntry("version", "2024.11.0")
          .containsEntry("source", "shipped:default")
          .containsEntry("max_alias_depth", 8L);
    }
  }

  /**
   * Reads a {@code load --histogram-log} file back with HdrHistogram's reader: one interval tagged
   * "load", whose count and p99 are the JSON line's; returns it.
   */
  static Histogram assertHistogramLogMatches(Path log, Map<String, Object> json) throws Exception {
    assertThat(Files.readString(log))
        .startsWith(
            "#Firebreak sample app, load generator: "
                + "latency from scheduled send to readable, microseconds\n");
    HistogramLogReader reader = new HistogramLogReader(log.toFile());
    try {
      EncodableHistogram read = reader.nextIntervalHistogram();
      assertThat(read).isInstanceOf(Histogram.class);
      assertThat(reader.nextIntervalHistogram()).as("one interval").isNull();
      Histogram h = (Histogram) read;
      assertThat(h.getTag()).isEqualTo("load");
      assertThat(h.getTotalCount()).isEqualTo(((Number) json.get("delivered")).longValue());
      // rounded to 0.01 ms as the JSON's figures are (PhaseStats.summary)
      assertThat(Math.round(h.getValueAtPercentile(99) / 10.0) / 100.0)
          .isEqualTo(((Number) json.get("p99_ms")).doubleValue());
      assertThat(Math.round(h.getValueAtPercentile(50) / 10.0) / 100.0)
          .isEqualTo(((Number) json.get("p50_ms")).doubleValue());
      // the reader puts the interval's time stamps at the base time (the log's start) plus the
      // logged offsets
      h.setStartTimeStamp(h.getStartTimeStamp() - Math.round(reader.getStartTimeSec() * 1000));
      h.setEndTimeStamp(h.getEndTimeStamp() - Math.round(reader.getStartTimeSec() * 1000));
      return h;
    } finally {
      reader.close();
    }
  }

  @Test
  void theLoadCommandPrintsASummaryAndAJsonLine(@TempDir Path tmp) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int rc;
    Path log = tmp.resolve("load.hlog");
    try {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      rc =
          MainAccess.load(
              List.of(
                  "--target",
                  base.toString(),
                  "--rate",
                  "100",
                  "--duration",
                  "3s",
                  "--deadline",
                  "3s",
                  "--json",
                  "--histogram-log",
                  log.toString()));
    } finally {
      System.setOut(old);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(rc).isZero();
    List<String> lines = out.lines().toList();
    Map<String, Object> json = Json.parseObject(lines.get(lines.size() - 1));
    assertThat(json.keySet())
        .containsExactly(
            "sent",
            "delivered",
            "failed",
            "success_pct",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "rendered_pct");
    assertThat(((Number) json.get("sent")).longValue()).isEqualTo(300);
    assertThat(((Number) json.get("success_pct")).doubleValue()).isEqualTo(100.0);
    assertThat(((Number) json.get("p99_ms")).doubleValue()).isPositive();
    assertThat(out).contains("success     100.00 %");
    // without a warm-up the histogram is the whole run's: from its first scheduled send, 3 s long
    Histogram h = assertHistogramLogMatches(log, json);
    assertThat(h.getTotalCount()).isEqualTo(300);
    assertThat(h.getStartTimeStamp()).isBetween(-1L, 1L);
    assertThat(h.getEndTimeStamp()).isBetween(2_999L, 3_001L);
  }

  @Test
  void theLoadCommandCanWarmUpInTheSameJvmAndReportOnlyTheMeasuredPhase(@TempDir Path tmp)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    int rc;
    Path log = tmp.resolve("load.hlog");
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      rc =
          MainAccess.load(
              List.of(
                  "--target",
                  base.toString(),
                  "--rate",
                  "100",
                  "--warmup",
                  "1s",
                  "--duration",
                  "2s",
                  "--deadline",
                  "3s",
                  "--json",
                  "--histogram-log",
                  log.toString()));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    String stdout = out.toString(StandardCharsets.UTF_8);
    String stderr = err.toString(StandardCharsets.UTF_8);
    System.out.print(stdout);
    System.out.print(stderr);
    assertThat(rc).isZero();
    List<String> lines = stdout.lines().toList();
    // the JSON line (the harness's result) is the measured phase alone; the warm-up has its own
    // line
    Map<String, Object> measured = Json.parseObject(lines.get(lines.size() - 1));
    assertThat(((Number) measured.get("sent")).longValue()).isEqualTo(200);
    String warmupLine =
        lines.stream().filter(l -> l.startsWith("warm-up {")).findFirst().orElseThrow();
    Map<String, Object> warmup = Json.parseObject(warmupLine.substring("warm-up ".length()));
    assertThat(((Number) warmup.get("sent")).longValue()).isEqualTo(100);
    assertThat(((Number) warmup.get("success_pct")).doubleValue()).isEqualTo(100.0);
    assertThat(((Number) measured.get("success_pct")).doubleValue()).isEqualTo(100.0);
    // the histogram log holds the measured phase (200 messages), neither the warm-up (100) nor the
    // whole run (300)
    Histogram h = assertHistogramLogMatches(log, measured);
    assertThat(h.getTotalCount())
        .isEqualTo(200)
        .isNotEqualTo(((Number) warmup.get("delivered")).longValue());
    assertThat(h.getStartTimeStamp()).isBetween(999L, 1_001L);
    assertThat(h.getEndTimeStamp()).isBetween(2_999L, 3_001L);
    // the marker a harness starts its measurement window on: once, after the start line
    List<String> errLines = stderr.lines().toList();
    assertThat(errLines).filteredOn(l -> l.equals("load: measured phase starts")).hasSize(1);
    assertThat(errLines.indexOf("load: measured phase starts"))
        .isGreaterThan(
            errLines.indexOf(
                errLines.stream().filter(l -> l.contains("(warm-up)")).findFirst().orElseThrow()));
  }

  @Test
  void aFreshLoadGeneratorJvmMeasuresNoLatencyBelowTheStoreWrite() throws Exception {
    // every message waits for its store write (1 ms by default) before it is readable, so no
    // latency can be shorter: the generator's schedule (nanoTime) and the server's stored_at
    // (wall clock) must be pinned together correctly, also in a fresh JVM
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    Path jar = ItSupport.appJar();
    cmd.addAll(
        jar == null
            ? List.of("-cp", System.getProperty("java.class.path"), "com.acme.chat.Main")
            : List.of("-jar", jar.toString()));
    cmd.addAll(
        List.of(
            "load",
            "--target",
            base.toString(),
            "--rate",
            "100",
            "--duration",
            "2s",
            "--deadline",
            "3s",
            "--json"));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    System.out.print(out);
    assertThat(p.exitValue()).isZero();
    List<String> lines = out.lines().toList();
    Map<String, Object> json = Json.parseObject(lines.get(lines.size() - 1));
    double storeMs = ChatServer.Options.defaults().storeLatency().toNanos() / 1e6;
    assertThat(((Number) json.get("success_pct")).doubleValue()).isEqualTo(100.0);
    assertThat(((Number) json.get("p50_ms")).doubleValue()).isGreaterThanOrEqualTo(storeMs);
  }

  /** {@code GET /debug/vm}: the JVM totals the process-level benchmark reads. */
  static Map<String, Object> vm() throws Exception {
    HttpResponse<String> r = send("GET", "/debug/vm", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    return Json.parseObject(r.body());
  }

  static long number(Map<String, Object> m, String key) {
    assertThat(m.get(key)).as(key).isInstanceOf(Long.class);
    return (Long) m.get(key);
  }

  @Test
  void totalsOfThisJvmGrowWithWhatItDoes() throws Exception {
    Map<String, Object> before = vm();
    assertThat(before)
        .containsOnlyKeys(
            "allocated_bytes", "process_cpu_ns", "gc_count", "gc_time_ms", "threads", "uptime_ms");
    assertThat(number(before, "allocated_bytes"))
        .isPositive(); // HotSpot supports it and has it on by default
    assertThat(number(before, "process_cpu_ns")).isPositive();
    assertThat(number(before, "gc_count")).isNotNegative();
    assertThat(number(before, "gc_time_ms")).isNotNegative();
    assertThat(number(before, "threads")).isPositive();

    // 64 MiB allocated by this thread, and some CPU time burnt, between two reads
    long sink = 0;
    for (int i = 0; i < 64; i++) {
      byte[] chunk = new byte[1 << 20];
      chunk[i] = (byte) i;
      sink += chunk[i] + chunk.length;
    }
    long until = System.nanoTime() + 50_000_000L;
    while (System.nanoTime() < until) sink += Long.numberOfTrailingZeros(sink + 1);
    assertThat(sink).isPositive();

    Map<String, Object> after = vm();
    assertThat(number(after, "allocated_bytes") - number(before, "allocated_bytes"))
        .isGreaterThanOrEqualTo(64L << 20);
    assertThat(number(after, "process_cpu_ns")).isGreaterThan(number(before, "process_cpu_ns"));
    assertThat(number(after, "gc_count")).isGreaterThanOrEqualTo(number(before, "gc_count"));
    assertThat(number(after, "uptime_ms")).isGreaterThanOrEqualTo(number(before, "uptime_ms"));
  }

  @Test
  void aPausedLoadSendsNothingAndThenResumesOnItsScheduleWithoutCatchingUp() throws Exception {
    LoadGenerator load =
        new LoadGenerator(
            LoadGenerator.Options.defaults(base)
                .withRate(100)
                .withDuration(Duration.ofSeconds(60)));
    load.keepLost();
    load.phase("before");
    load.start("paused-load");
    LoadGenerator.Result r;
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> load.snapshot("before").sent() >= 50);
      load.pause();
      await().atMost(Duration.ofSeconds(10)).until(load::quiet);
      long sent = load.snapshot("before").sent();
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(2))
          .until(() -> load.snapshot("before").sent() == sent);
      load.phase("after");
      long resumed = System.nanoTime();
      load.resume();
      await().atMost(Duration.ofSeconds(10)).until(() -> load.snapshot("after").sent() >= 50);
      // 50 messages at 100 a second take half a second: the paused stretch was not sent at once
      assertThat((System.nanoTime() - resumed) / 1e6)
          .as("ms to send 50 after the pause")
          .isGreaterThan(400);
    } finally {
      r = load.finish();
    }
    assertThat(r.total().delivered()).as(r.total().describe()).isEqualTo(r.total().sent());
    assertThat(load.lost()).isEmpty();
  }

  @Test
  void statsKeepTheirFields() throws Exception {
    HttpResponse<String> r = send("GET", "/stats", null);
    assertThat(Json.parseObject(r.body()))
        .containsOnlyKeys(
            "accepted",
            "rejected",
            "bad_requests",
            "delivered",
            "failed_attempts",
            "retries",
            "stack_overflows",
            "first_stack_overflow_us",
            "workers_backing_off",
            "dead_lettered",
            "queue_depth",
            "queue_capacity",
            "in_flight",
            "workers",
            "max_retries",
            "rooms",
            "pack",
            "uptime_s");
    assertThat(Json.parseObject(r.body()))
        .as("no overflow in this service")
        .containsEntry("stack_overflows", 0L)
        .containsEntry("first_stack_overflow_us", null);
  }
}
