package com.acme.chat.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.acme.chat.model.Message;

/**
 * The worker pool that runs the {@link Pipeline}: a fixed number of worker threads taking
 * messages from one bounded queue. A failed attempt is retried after an exponential backoff
 * (capped), by putting the message back on the same queue; after {@code maxRetries} retries
 * the message is dead-lettered. Retries that find the queue full wait another backoff period
 * and try again: they are never dropped, exactly like the at-least-once pipelines this models.
 *
 * <p>That is also how a poisoned message becomes an outage when {@code maxRetries} is set too
 * high: each one comes back {@code maxRetries} times, the retries fill the queue, and fresh
 * messages can no longer get in.
 */
public class Workers implements AutoCloseable {
    /** Settings of the pool (all from the {@code serve} command line). */
    public record Settings(int workers, int queueCapacity, int maxRetries, Duration backoff, Duration backoffMax) {}

    private final Pipeline pipeline;
    private final Settings settings;
    private final DeadLetters deadLetters;
    private final BlockingQueue<Message> queue;
    private final List<Thread> threads = new ArrayList<>();
    private final ScheduledExecutorService retryTimer;
    private volatile boolean running = true;

    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong retriesQueued = new AtomicLong();
    private final AtomicLong retriesDeferred = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger retriesWaiting = new AtomicInteger();
    private final FailureLog failureLog = new FailureLog();

    public Workers(Pipeline pipeline, Settings settings, DeadLetters deadLetters) {
        this.pipeline = pipeline;
        this.settings = settings;
        this.deadLetters = deadLetters;
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "retry-timer");
            t.setDaemon(true);
            return t;
        });
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
            Message m;
            try {
                m = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            inFlight.incrementAndGet();
            try {
                pipeline.process(m);
                delivered.incrementAndGet();
            } catch (Throwable t) { // StackOverflowError included: one bad message must not kill the worker
                failed(m, t);
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    private void failed(Message m, Throwable t) {
        failedAttempts.incrementAndGet();
        int attempt = m.attempts() + 1;
        boolean permanent = t instanceof MessageParser.InvalidMessageException;
        if (permanent || attempt > settings.maxRetries()) {
            deadLetters.add(m, attempt, t);
            failureLog.log(m, attempt, t, true);
            return;
        }
        failureLog.log(m, attempt, t, false);
        retriesWaiting.incrementAndGet();
        schedule(m.nextAttempt(), backoff(attempt));
    }

    private long backoff(int attempt) {
        long base = settings.backoff().toNanos();
        long cap = settings.backoffMax().toNanos();
        long d = attempt >= 30 ? cap : Math.min(cap, base << (attempt - 1));
        return (long) (d * ThreadLocalRandom.current().nextDouble(0.8, 1.2)); // jitter
    }

    private void schedule(Message retry, long delayNanos) {
        if (!running) return;
        retryTimer.schedule(() -> {
            if (queue.offer(retry)) {
                retriesWaiting.decrementAndGet();
                retriesQueued.incrementAndGet();
            } else {
                retriesDeferred.incrementAndGet();
                schedule(retry, backoff(retry.attempts()));
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    public Settings settings() { return settings; }
    public long accepted() { return accepted.get(); }
    public long rejected() { return rejected.get(); }
    public long delivered() { return delivered.get(); }
    public long failedAttempts() { return failedAttempts.get(); }
    public long retriesQueued() { return retriesQueued.get(); }
    public long retriesDeferred() { return retriesDeferred.get(); }
    public int retriesWaiting() { return retriesWaiting.get(); }
    public int queueDepth() { return queue.size(); }
    public int inFlight() { return inFlight.get(); }

    @Override
    public void close() {
        running = false;
        retryTimer.shutdownNow();
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
            System.err.printf("pipeline: message %s in %s failed (attempt %d): %s%s%s%n", m.id(), m.room(), attempt,
                    t.getClass().getName(), dead ? " -> dead-lettered" : " -> retry scheduled",
                    suppressed > 0 ? " (" + suppressed + " more failures not shown)" : "");
            suppressed = 0;
        }
    }
}
