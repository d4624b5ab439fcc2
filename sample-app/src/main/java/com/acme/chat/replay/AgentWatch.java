package com.acme.chat.replay;

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
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.acme.chat.util.Clock;
import com.acme.chat.util.Json;

/**
 * Watches a Firebreak agent from outside, as an SRE's tooling would: polls its Prometheus
 * {@code /metrics} for the kill switch state of one target and tails its alert log (JSON lines).
 */
public final class AgentWatch implements AutoCloseable {
    /** A kill switch state change as seen by the poller. */
    public record Transition(long atMicros, int state) {}

    private final URI metrics;
    private final Path alertLog;
    private final String target;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();
    private final Thread thread;
    private final List<Transition> transitions = new ArrayList<>();
    private final List<Map<String, Object>> alerts = new ArrayList<>();
    private final List<Long> alertSeenMicros = new ArrayList<>();
    private volatile int state = -1;
    private volatile boolean metricsUp;
    private long alertOffset;
    private final StringBuilder partial = new StringBuilder();

    public AgentWatch(int metricsPort, Path alertLog, String target) {
        this.metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
        this.alertLog = alertLog;
        this.target = target;
        this.thread = new Thread(this::run, "agent-watch");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        Pattern p = Pattern.compile("^firebreak_kill_switch_state\\{[^}]*target=\"" + Pattern.quote(target) + "\"[^}]*\\}\\s+(\\S+)",
                Pattern.MULTILINE);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(1)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    metricsUp = true;
                    Matcher m = p.matcher(r.body());
                    if (m.find()) {
                        int s = (int) Double.parseDouble(m.group(1));
                        synchronized (this) {
                            if (s != state) {
                                transitions.add(new Transition(Clock.nowMicros(), s));
                                state = s;
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not up yet, or busy: try again
            } catch (InterruptedException e) {
                return;
            }
            readAlerts();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
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

    /** The kill switch state last seen: 0 closed, 1 open, 2 half-open, -1 unknown. */
    public int state() {
        return state;
    }

    public boolean metricsUp() {
        return metricsUp;
    }

    /** When the kill switch was first seen in {@code wanted} at or after {@code sinceMicros}; -1 if never. */
    public synchronized long firstState(int wanted, long sinceMicros) {
        for (Transition t : transitions) {
            if (t.atMicros() >= sinceMicros && t.state() == wanted) return t.atMicros();
        }
        return -1;
    }

    /** The first alert at or after {@code sinceMicros} (by its own time), with when it happened; null if none. */
    public synchronized Map<String, Object> firstAlert(long sinceMicros) {
        for (int i = 0; i < alerts.size(); i++) {
            if (alertMicros(i) >= sinceMicros) return alerts.get(i);
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
