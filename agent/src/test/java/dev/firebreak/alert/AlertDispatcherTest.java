package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class AlertDispatcherTest {

  /** A sink that keeps what it gets, under the name and destination it is given. */
  static final class Memory implements AlertSink {
    final String name;
    final String destination;
    final List<AlertEvent> got = new CopyOnWriteArrayList<>();
    volatile AlertSink reconfiguredWith;
    volatile boolean closed;

    Memory(String name, String destination) {
      this.name = name;
      this.destination = destination;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String destination() {
      return destination;
    }

    @Override
    public void send(AlertEvent event) {
      got.add(event);
    }

    @Override
    public void reconfigure(AlertSink next) {
      reconfiguredWith = next;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** Another sink under a test name, so several webhooks can be counted apart. */
  record Named(String name, AlertSink delegate) implements AlertSink {
    @Override
    public void send(AlertEvent event) throws Exception {
      delegate.send(event);
    }

    @Override
    public String destination() {
      return name;
    }
  }

  static AlertEvent event(int i) {
    return new AlertEvent(
        System.currentTimeMillis(),
        "r" + i,
        "t",
        "m()",
        "alert",
        "enforce",
        i,
        1,
        "main",
        Map.of(),
        "",
        null,
        null,
        false);
  }

  static long count(AlertDispatcher d, String sink, String result) {
    var c = d.counts().get(sink + "|" + result);
    return c == null ? 0 : c.sum();
  }

  static int refusedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort(); // closed again: connections are refused
    }
  }

  @Test
  void deadFailingAndSlowEndpointsNeitherBlockTheCallerNorDelayTheOtherSinks() throws Exception {
    int capacity = 8;
    AlertDispatcher d = new AlertDispatcher(capacity, 3, 10);
    try (Receiver failing = new Receiver();
        Receiver slow = new Receiver()) {
      failing.status = 500;
      slow.delayMillis = 2_000;
      Memory memory = new Memory("memory", "memory");
      d.setSinks(
          List.of(
              memory,
              new Named(
                  "refused",
                  new WebhookSink(URI.create("http://127.0.0.1:" + refusedPort() + "/hook"))),
              new Named("failing", new WebhookSink(failing.uri("/hook"))),
              new Named("slow", new WebhookSink(slow.uri("/hook"), 500, 5_000))));
      int n = 30;
      long worst = 0;
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        d.offer(event(i));
        worst = Math.max(worst, System.nanoTime() - t0);
        LockSupport.parkNanos(1_000_000); // alerts come apart, not all in the same microsecond
      }
      System.out.printf(
          "[alert-dispatcher] worst offer() with a dead, a failing and a slow sink: %.3f ms%n",
          worst / 1e6);
      assertThat(worst)
          .as("offer() never waits for a sink")
          .isLessThan(Duration.ofMillis(50).toNanos());
      // the healthy sink is not held up by the others
      await().atMost(Duration.ofSeconds(2)).until(() -> memory.got.size() == n);
      assertThat(count(d, "memory", "sent")).isEqualTo(n);
      assertThat(count(d, "memory", "dropped")).isZero();

      // every event ends as sent, failed or dropped, once per sink
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  count(d, "refused", "failed") + count(d, "refused", "dropped") == n
                      && count(d, "failing", "failed") + count(d, "failing", "dropped") == n);
      assertThat(count(d, "refused", "sent") + count(d, "failing", "sent")).isZero();
      // three attempts per event that was not dropped
      assertThat(failing.requests).hasSize((int) (3 * count(d, "failing", "failed")));
      // the slow one holds one event in delivery and a full queue; the rest is dropped at once
      assertThat(count(d, "slow", "dropped")).isGreaterThanOrEqualTo(n - capacity - 1);
    } finally {
      d.stop();
    }
  }

  @Test
  void aFailedAttemptIsRetriedWithBackoffAndABadRequestIsNot() throws Exception {
    AlertDispatcher d = new AlertDispatcher(16, 3, 10);
    try (Receiver hook = new Receiver()) {
      d.setSinks(List.of(new WebhookSink(hook.uri("/hook"))));
      hook.script.add(503);
      hook.script.add(503);
      d.offer(event(1));
      assertThat(d.awaitIdle(5_000)).isTrue();
      assertThat(hook.requests).hasSize(3);
      assertThat(count(d, "webhook", "sent")).isEqualTo(1);
      assertThat(count(d, "webhook", "failed")).isZero();
      // the SPEC section 4 event, the same on every attempt
      assertThat(hook.requests.get(0).contentType()).isEqualTo("application/json");
      assertThat(hook.requests.get(2).body())
          .isEqualTo(hook.requests.get(0).body())
          .startsWith("{\"time\":\"")
          .contains(
              "\"rule\":\"r1\",\"target\":\"t\",\"method\":\"m()\",\"action\":\"alert\",\"mode\":\"enforce\",\"value\":1,\"threshold\":1");

      hook.status = 400;
      d.offer(event(2));
      assertThat(d.awaitIdle(5_000)).isTrue();
      assertThat(hook.requests).hasSize(4);
      assertThat(count(d, "webhook", "failed")).isEqualTo(1);
    } finally {
      d.stop();
    }
  }

  @Test
  void aReloadKeepsTheRunningSinkOfTheSameDestinationAndClosesTheOthers() throws Exception {
    AlertDispatcher d = new AlertDispatcher(16, 1, 10);
    try {
      Memory a = new Memory("a", "a-1");
      Memory b = new Memory("b", "b-1");
      d.setSinks(List.of(a, b));
      Memory a2 = new Memory("a", "a-1");
      Memory b2 = new Memory("b", "b-2");
      d.setSinks(List.of(a2, b2));
      assertThat(a.reconfiguredWith).isSameAs(a2);
      assertThat(a2.closed).isTrue();
      assertThat(a.closed).isFalse();
      await().atMost(Duration.ofSeconds(5)).until(() -> b.closed);
      d.offer(event(1));
      assertThat(d.awaitIdle(5_000)).isTrue();
      assertThat(a.got).hasSize(1);
      assertThat(b2.got).hasSize(1);
      assertThat(b.got).isEmpty();
      assertThat(d.hasSinks()).isTrue();
      d.setSinks(List.of());
      assertThat(d.hasSinks()).isFalse();
      d.offer(event(2)); // nowhere to go: nothing counted, nothing thrown
      assertThat(count(d, "a", "dropped")).isZero();
    } finally {
      d.stop();
    }
  }
}
