package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.acme.chat.server.ChatServer;
import com.acme.chat.util.Json;

/** {@code GET /debug/vm}: the JVM totals the process-level benchmark reads (service in this JVM). */
class DebugVmIT {
    static ChatServer server;
    static HttpClient http = HttpClient.newHttpClient();
    static URI base;

    @BeforeAll
    static void start() throws Exception {
        ChatServer.Options d = ChatServer.Options.defaults();
        server = new ChatServer(new ChatServer.Options("127.0.0.1", 0, 2, 64, 3, d.backoff(), d.backoffMax(), d.enqueueWait(),
                d.storeLatency(), 4, "default")).start();
        base = URI.create("http://127.0.0.1:" + server.port() + "/");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Map<String, Object> vm() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/debug/vm")).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        return Json.parseObject(r.body());
    }

    static long number(Map<String, Object> m, String key) {
        assertThat(m.get(key)).as(key).isInstanceOf(Long.class);
        return (Long) m.get(key);
    }

    @Test
    void totalsOfThisJvmGrowWithWhatItDoes() throws Exception {
        Map<String, Object> before = vm();
        assertThat(before).containsOnlyKeys("allocated_bytes", "process_cpu_ns", "gc_count", "gc_time_ms", "threads", "uptime_ms");
        assertThat(number(before, "allocated_bytes")).isPositive(); // HotSpot supports it and has it on by default
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
        assertThat(number(after, "allocated_bytes") - number(before, "allocated_bytes")).isGreaterThanOrEqualTo(64L << 20);
        assertThat(number(after, "process_cpu_ns")).isGreaterThan(number(before, "process_cpu_ns"));
        assertThat(number(after, "gc_count")).isGreaterThanOrEqualTo(number(before, "gc_count"));
        assertThat(number(after, "uptime_ms")).isGreaterThanOrEqualTo(number(before, "uptime_ms"));
    }

    @Test
    void statsKeepTheirFields() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/stats")).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(Json.parseObject(r.body())).containsOnlyKeys("accepted", "rejected", "bad_requests", "delivered",
                "failed_attempts", "retries", "workers_backing_off", "dead_lettered", "queue_depth", "queue_capacity",
                "in_flight", "workers", "max_retries", "rooms", "pack", "uptime_s");
    }
}
