package dev.firebreak.alert;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hands events from application threads to the sinks. {@link #offer} never blocks: the queue is
 * bounded and a full queue drops the event (counted). One daemon thread delivers.
 */
public final class AlertDispatcher {
  public static final int QUEUE_CAPACITY = 1024;

  private final BlockingQueue<AlertEvent> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
  private final List<AlertSink> sinks = new CopyOnWriteArrayList<>();
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;

  public AlertDispatcher() {
    thread = new Thread(this::run, "firebreak-alerts");
    thread.setDaemon(true);
    thread.start();
  }

  /** Replaces the sinks (a reload); the old ones are closed. */
  public synchronized void setSinks(List<AlertSink> next) {
    List<AlertSink> old = List.copyOf(sinks);
    sinks.clear();
    sinks.addAll(next);
    for (AlertSink s : old) {
      s.close();
    }
  }

  public boolean hasSinks() {
    return !sinks.isEmpty();
  }

  /** Never blocks, never throws. */
  public void offer(AlertEvent event) {
    if (sinks.isEmpty()) {
      return;
    }
    if (!queue.offer(event)) {
      for (AlertSink s : sinks) {
        count(s.name(), "dropped");
      }
    }
  }

  /** {@code firebreak_alerts_total}: "sink|result" → count. */
  public Map<String, LongAdder> counts() {
    return counts;
  }

  private void count(String sink, String result) {
    counts.computeIfAbsent(sink + "|" + result, k -> new LongAdder()).increment();
  }

  /** For tests and shutdown: waits until the queue is empty or the timeout passes. */
  public boolean awaitIdle(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!queue.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return queue.isEmpty();
  }

  public void stop() {
    running = false;
    thread.interrupt();
  }

  private void run() {
    while (running) {
      AlertEvent e;
      try {
        e = queue.poll(1, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        if (!running) {
          return;
        }
        continue;
      }
      if (e == null) {
        continue;
      }
      for (AlertSink s : sinks) {
        try {
          s.send(e);
          count(s.name(), "sent");
        } catch (Throwable t) {
          count(s.name(), "failed");
        }
      }
    }
  }
}
