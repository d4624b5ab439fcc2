package dev.firebreak.alert;

import dev.firebreak.errors.AgentErrors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hands events from application threads to the sinks. {@link #offer} never blocks and never throws:
 * each sink has its own bounded queue and daemon thread ({@code firebreak-alerts-NAME}), so a slow
 * or dead endpoint delays only its own events, and a full queue drops (counted).
 *
 * <p>A failed delivery is retried with backoff ({@value #ATTEMPTS} attempts, 0.5 s then 2 s apart);
 * an answer that cannot change (HTTP 400) is not retried. Every event offered ends in exactly one
 * {@code firebreak_alerts_total{sink,result}} per sink: {@code sent}, {@code failed} (every attempt
 * failed) or {@code dropped} (the queue was full, or the agent stopped).
 */
public final class AlertDispatcher {
  /** Per sink. */
  public static final int QUEUE_CAPACITY = 1024;

  static final int ATTEMPTS = 3;
  static final long BACKOFF_MILLIS = 500;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  private final int capacity;
  private final int attempts;
  private final long backoffMillis;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private volatile List<Lane> lanes = List.of();
  private volatile boolean running = true;

  public AlertDispatcher() {
    this(QUEUE_CAPACITY, ATTEMPTS, BACKOFF_MILLIS);
  }

  AlertDispatcher(int capacity, int attempts, long backoffMillis) {
    this.capacity = capacity;
    this.attempts = Math.max(1, attempts);
    this.backoffMillis = backoffMillis;
  }

  /**
   * Puts these sinks in force (at start and on every reload). A sink with the same destination as a
   * running one does not replace it: the running one takes the new settings and keeps its queue and
   * state (Alertmanager's firing alerts). Sinks no longer asked for deliver what they have queued,
   * once each, and close.
   */
  public synchronized void setSinks(List<AlertSink> next) {
    List<Lane> old = lanes;
    List<Lane> kept = new ArrayList<>();
    List<Lane> now = new ArrayList<>();
    for (AlertSink s : next) {
      Lane same = null;
      for (Lane l : old) {
        if (!kept.contains(l)
            && l.sink.getClass() == s.getClass()
            && l.sink.destination().equals(s.destination())) {
          same = l;
          break;
        }
      }
      if (same != null) {
        same.sink.reconfigure(s);
        closeQuietly(s);
        kept.add(same);
        now.add(same);
      } else if (running) {
        now.add(new Lane(s));
      } else {
        closeQuietly(s);
      }
    }
    lanes = List.copyOf(now);
    for (Lane l : old) {
      if (!kept.contains(l)) {
        l.finish();
      }
    }
  }

  public boolean hasSinks() {
    return !lanes.isEmpty();
  }

  /** Never blocks, never throws. */
  public void offer(AlertEvent event) {
    List<Lane> ls = lanes;
    for (int i = 0; i < ls.size(); i++) {
      ls.get(i).offer(event);
    }
  }

  /** {@code firebreak_alerts_total}: "sink|result" → count. */
  public Map<String, LongAdder> counts() {
    return counts;
  }

  private void count(String sink, String result) {
    String key = sink + "|" + result;
    LongAdder c = counts.get(key);
    if (c == null) {
      counts.putIfAbsent(key, new LongAdder());
      c = counts.get(key);
    }
    c.increment();
  }

  /** For tests and shutdown: waits until every sink has handled every event offered so far. */
  public boolean awaitIdle(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!idle() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return idle();
  }

  private boolean idle() {
    for (Lane l : lanes) {
      if (l.pending.get() > 0) {
        return false;
      }
    }
    return true;
  }

  public synchronized void stop() {
    running = false;
    for (Lane l : lanes) {
      l.stop();
    }
    lanes = List.of();
  }

  private static void closeQuietly(AlertSink s) {
    try {
      s.close();
    } catch (Throwable ignored) {
      // closing a sink that was never used
    }
  }

  /** One sink's queue and thread. */
  private final class Lane implements Runnable {
    final AlertSink sink;
    final String name;
    final BlockingQueue<AlertEvent> queue = new ArrayBlockingQueue<>(capacity);

    /** Offered and not yet sent, failed or dropped. */
    final AtomicInteger pending = new AtomicInteger();

    final Thread thread;

    /** No longer in force: deliver what is queued, once each, then close. */
    volatile boolean finishing;

    volatile boolean stopped;
    private boolean failing;

    Lane(AlertSink sink) {
      this.sink = sink;
      this.name = sink.name();
      for (String result : new String[] {"sent", "failed", "dropped"}) {
        counts.putIfAbsent(name + "|" + result, new LongAdder());
      }
      thread = new Thread(this, "firebreak-alerts-" + name);
      thread.setDaemon(true);
      thread.start();
    }

    void offer(AlertEvent e) {
      pending.incrementAndGet();
      if (finishing || !queue.offer(e)) {
        pending.decrementAndGet();
        count(name, "dropped");
      }
    }

    void finish() {
      finishing = true;
      thread.interrupt();
    }

    void stop() {
      stopped = true;
      finishing = true;
      thread.interrupt();
    }

    @Override
    public void run() {
      long nextRefresh = 0;
      while (!stopped) {
        long refresh = refreshMillis();
        if (refresh > 0 && nextRefresh == 0) {
          nextRefresh = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(refresh);
        }
        AlertEvent e;
        try {
          if (finishing) {
            e = queue.poll();
          } else {
            long wait = 1000;
            if (refresh > 0) {
              wait =
                  Math.max(
                      1,
                      Math.min(
                          wait, TimeUnit.NANOSECONDS.toMillis(nextRefresh - System.nanoTime())));
            }
            e = queue.poll(wait, TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException ie) {
          continue; // finish() or stop(): the loop looks at the flags
        }
        if (e != null) {
          try {
            deliver(e);
          } finally {
            pending.decrementAndGet();
          }
        } else if (finishing) {
          break;
        }
        if (!finishing && refresh > 0 && System.nanoTime() - nextRefresh >= 0) {
          refresh();
          nextRefresh =
              System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, refreshMillis()));
        }
      }
      for (AlertEvent left; (left = queue.poll()) != null; ) {
        pending.decrementAndGet();
        count(name, "dropped");
      }
      closeQuietly(sink);
    }

    private long refreshMillis() {
      try {
        return sink.refreshMillis();
      } catch (Throwable t) {
        return 0;
      }
    }

    private void refresh() {
      try {
        sink.refresh();
        recovered();
      } catch (Throwable t) {
        failing(t);
      }
    }

    private void deliver(AlertEvent e) {
      for (int attempt = 1; ; attempt++) {
        try {
          sink.send(e);
          count(name, "sent");
          recovered();
          return;
        } catch (Throwable t) {
          boolean permanent = t instanceof SinkException se && !se.retryable();
          if (permanent || attempt >= attempts || finishing) {
            count(name, "failed");
            failing(t);
            return;
          }
          try {
            Thread.sleep(Math.min(MAX_BACKOFF_MILLIS, backoffMillis << (2 * (attempt - 1))));
          } catch (InterruptedException ie) {
            // finish() or stop(): one more attempt is not worth waiting for
            count(name, "failed");
            return;
          }
        }
      }
    }

    /**
     * One stderr line when a sink starts failing, one when it delivers again: never one per event.
     */
    private void failing(Throwable t) {
      if (!failing) {
        failing = true;
        AgentErrors.log(
            "alert sink "
                + sink.printableDestination()
                + " failed ("
                + AgentErrors.describe(t)
                + "); each alert is tried "
                + attempts
                + " times, then counted in firebreak_alerts_total{sink=\""
                + name
                + "\",result=\"failed\"}");
      }
    }

    private void recovered() {
      if (failing) {
        failing = false;
        AgentErrors.log("alert sink " + sink.printableDestination() + " delivers again");
      }
    }
  }
}
