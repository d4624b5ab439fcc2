package com.acme.chat.pipeline;

import com.acme.chat.model.Message;
import com.acme.chat.util.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The worker pool that runs the {@link Pipeline}: a fixed number of worker threads taking messages
 * from one bounded queue. A failed attempt is retried by the same worker after an exponential
 * backoff (capped), the way a synchronous retry policy does it; after {@code maxRetries} retries
 * the message is dead-lettered.
 *
 * <p>That is how a poisoned message becomes an outage when {@code maxRetries} is set too high: each
 * one holds a worker for the whole retry schedule ({@code maxRetries} backoff periods), a handful
 * of them occupy every worker, the queue fills up behind them, and fresh messages, harmless or not,
 * can no longer get through.
 */
public class Workers implements AutoCloseable {
  /** Settings of the pool (all from the {@code serve} command line). */
  public record Settings(
      int workers, int queueCapacity, int maxRetries, Duration backoff, Duration backoffMax) {}

  private final Pipeline pipeline;
  private final Settings settings;
  private final DeadLetters deadLetters;
  private final BlockingQueue<Message> queue;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong stackOverflows = new AtomicLong();
  private final AtomicLong firstStackOverflowMicros = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger backingOff = new AtomicInteger();
  private final FailureLog failureLog = new FailureLog();

  public Workers(Pipeline pipeline, Settings settings, DeadLetters deadLetters) {
    this.pipeline = pipeline;
    this.settings = settings;
    this.deadLetters = deadLetters;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    for (int i = 1; i <= settings.workers(); i++) {
      Thread t = new Thread(this::work, "worker-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Offers a new message, waiting at most {@code wait} for room in the queue. */
  public boolean submit(Message m, Duration wait) throws InterruptedException {
    if (queue.offer(m, wait.toNanos(), TimeUnit.NANOSECONDS)) {
      accepted.incrementAndGet();
      return true;
    }
    rejected.incrementAndGet();
    return false;
  }

  private void work() {
    while (running) {
      try {
        Message m = queue.take();
        inFlight.incrementAndGet();
        try {
          deliver(m);
        } finally {
          inFlight.decrementAndGet();
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Runs the pipeline for one message until it succeeds or is dead-lettered. */
  private void deliver(Message m) throws InterruptedException {
    while (true) {
      try {
        pipeline.process(m);
        delivered.incrementAndGet();
        return;
      } catch (
          Throwable t) { // StackOverflowError included: one bad message must not kill the worker
        failedAttempts.incrementAndGet();
        if (t instanceof StackOverflowError) {
          stackOverflows.incrementAndGet();
          firstStackOverflowMicros.compareAndSet(0, Clock.nowMicros());
        }
        int attempt = m.attempts() + 1;
        boolean permanent = t instanceof MessageParser.InvalidMessageException;
        if (permanent || attempt > settings.maxRetries()) {
          deadLetters.add(m, attempt, t);
          failureLog.log(m, attempt, t, true);
          return;
        }
        failureLog.log(m, attempt, t, false);
        retries.incrementAndGet();
        backingOff.incrementAndGet();
        try {
          TimeUnit.NANOSECONDS.sleep(backoff(attempt));
        } finally {
          backingOff.decrementAndGet();
        }
        m = m.nextAttempt();
      }
    }
  }

  private long backoff(int attempt) {
    long base = settings.backoff().toNanos();
    long cap = settings.backoffMax().toNanos();
    long d = attempt >= 30 ? cap : Math.min(cap, base << (attempt - 1));
    return (long) (d * ThreadLocalRandom.current().nextDouble(0.8, 1.2)); // jitter
  }

  public Settings settings() {
    return settings;
  }

  public long accepted() {
    return accepted.get();
  }

  public long rejected() {
    return rejected.get();
  }

  public long delivered() {
    return delivered.get();
  }

  public long failedAttempts() {
    return failedAttempts.get();
  }

  public long retries() {
    return retries.get();
  }

  /** Failed attempts that ended in a {@link StackOverflowError}. */
  public long stackOverflows() {
    return stackOverflows.get();
  }

  /**
   * When the first attempt ended in a {@link StackOverflowError} (wall clock, microseconds since
   * the epoch, {@link Clock}); 0 if none has yet.
   */
  public long firstStackOverflowMicros() {
    return firstStackOverflowMicros.get();
  }

  /** Workers sleeping in a retry backoff right now. */
  public int backingOff() {
    return backingOff.get();
  }

  public int queueDepth() {
    return queue.size();
  }

  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void close() {
    running = false;
    for (Thread t : threads) t.interrupt();
  }

  /** Logs failures to stderr, at most one line a second (an outage must not flood the log). */
  private static final class FailureLog {
    private long lastNanos;
    private long suppressed;

    synchronized void log(Message m, int attempt, Throwable t, boolean dead) {
      long now = System.nanoTime();
      if (lastNanos != 0 && now - lastNanos < 1_000_000_000L) {
        suppressed++;
        return;
      }
      lastNanos = now;
      System.err.printf(
          "pipeline: message %s in %s failed (attempt %d): %s%s%s%n",
          m.id(),
          m.room(),
          attempt,
          t.getClass().getName(),
          dead ? " -> dead-lettered" : " -> retrying",
          suppressed > 0 ? " (" + suppressed + " more failures not shown)" : "");
      suppressed = 0;
    }
  }
}
