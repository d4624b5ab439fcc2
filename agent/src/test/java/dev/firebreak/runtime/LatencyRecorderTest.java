package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The striped latency recorder (issue 15): a thread state owns a stripe (plain adds) while one is
 * free and shares one (atomic adds) otherwise; a stripe goes from one owner to the next with every
 * count kept; counts are exact either way.
 */
class LatencyRecorderTest {

  private static final int PER_THREAD = 500_000;

  /** The latency of a thread's {@code i}-th call: two buckets, so writers collide. */
  private static long latency(int i) {
    return 100L << (i % 2);
  }

  private static RuleSet timedRules() throws Exception {
    return RulesParser.parse(
        "test.yaml",
        ("version: 1\n"
                + "alerts: {log: 'off'}\n"
                + "targets:\n"
                + "  - {name: t, class: a.A, method: '*', fallback: return-null, rules: ["
                + "{name: t-slow, latency: {percentile: 99, above: 1s, window: 5s}, action: alert}"
                + "]}\n")
            .getBytes(StandardCharsets.UTF_8));
  }

  private static MethodInfo register(Engine engine) {
    return engine.register("a.A", "run", "()V", "run()", "void", List.of(), "t");
  }

  private static void calls(Engine engine, int id, int n) {
    for (int i = 0; i < n; i++) {
      long token = engine.enter(id, null, null);
      engine.exit(id, token, null);
    }
  }

  /** As a virtual thread does: each outermost call on a pooled state claimed from the table. */
  private static void borrowAndCall(Engine engine, int id, int n) {
    for (int i = 0; i < n; i++) {
      ThreadState ts = engine.claim(Thread.currentThread());
      engine.exit(id, engine.enter(id, null, ts), ts); // outermost: given back
    }
  }

  /** A thread whose window of the engine's table of pooled states is {@code other}'s. */
  static Thread sameWindowAs(Thread other, Runnable r) {
    while (true) {
      Thread t = new Thread(r);
      if (Engine.window(t) == Engine.window(other)) {
        return t;
      }
    }
  }

  /**
   * Lost updates show only when writers of a shared stripe overlap: a few rounds make it likely.
   */
  @Test
  void moreWritersThanOwnedStripesShareTheRestAndEveryCountIsExact() throws Exception {
    for (int round = 0; round < 3; round++) {
      writersOfOwnedAndSharedStripes();
    }
  }

  private static void writersOfOwnedAndSharedStripes() throws Exception {
    LatencyRecorder.Stripes stripes = new LatencyRecorder.Stripes();
    LatencyRecorder recorder = new LatencyRecorder();
    // every owned stripe taken, and each shared stripe written by several threads at once
    int writers = LatencyRecorder.OWNED + 3 * LatencyRecorder.SHARED;
    CyclicBarrier claimed = new CyclicBarrier(writers);
    int[] stripeOf = new int[writers];
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int me = w;
      Thread t =
          new Thread(
              () -> {
                ThreadState ts = new ThreadState(Thread.currentThread());
                stripeOf[me] = stripes.claim(ts);
                try {
                  claimed.await(); // all alive and claimed before anyone writes
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                for (int i = 0; i < PER_THREAD; i++) {
                  recorder.record(ts.stripe, latency(i));
                }
              });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }

    Set<Integer> owned = new HashSet<>();
    int shared = 0;
    for (int s : stripeOf) {
      if (s < LatencyRecorder.OWNED) {
        assertThat(owned.add(s)).as("stripe %d owned twice", s).isTrue();
      } else {
        assertThat(s).isLessThan(LatencyRecorder.STRIPES);
        shared++;
      }
    }
    assertThat(owned).hasSize(LatencyRecorder.OWNED);
    assertThat(shared).isEqualTo(3 * LatencyRecorder.SHARED);
    assertThat(stripes.taken()).isEqualTo(LatencyRecorder.OWNED);

    long[] expected = new long[LatencyRecorder.BUCKETS];
    for (int i = 0; i < PER_THREAD; i++) {
      expected[LatencyRecorder.index(latency(i))] += writers;
    }
    long[] counts = new long[LatencyRecorder.BUCKETS];
    assertThat(recorder.sumInto(counts)).isTrue();
    assertThat(Arrays.stream(counts).sum()).isEqualTo((long) writers * PER_THREAD);
    assertThat(counts).isEqualTo(expected);
  }

  /**
   * A dead platform thread's stripe is released by the evaluator and claimed by the next thread,
   * which continues from its counts: nothing lost, nothing counted twice, the table never full of
   * dead owners.
   */
  @Test
  void aDeadThreadsStripeGoesToTheNextThreadWithItsCountsKept() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(timedRules());
    MethodInfo m = register(engine);
    Monitor monitor = new Monitor(engine);
    // all owned stripes but one are held (by states of no thread the evaluator watches)
    for (int i = 0; i < LatencyRecorder.OWNED - 1; i++) {
      engine.stripes.claim(new ThreadState(Thread.currentThread()));
    }
    AtomicReference<ThreadState> first = new AtomicReference<>();
    Thread a =
        new Thread(
            () -> {
              calls(engine, m.id(), 3000);
              first.set((ThreadState) engine.thread());
            });
    a.start();
    a.join();
    int stripe = first.get().stripe;
    assertThat(stripe).isBetween(0, LatencyRecorder.OWNED - 1);
    assertThat(engine.stripes.taken()).isEqualTo(LatencyRecorder.OWNED);

    monitor.tick(System.nanoTime()); // sees it dead: state released, stripe free
    assertThat(monitor.threadStates()).isZero();
    assertThat(engine.stripes.taken()).isEqualTo(LatencyRecorder.OWNED - 1);

    AtomicReference<ThreadState> second = new AtomicReference<>();
    Thread b =
        new Thread(
            () -> {
              calls(engine, m.id(), 2000);
              second.set((ThreadState) engine.thread());
            });
    b.start();
    b.join();
    assertThat(second.get().stripe).isEqualTo(stripe);
    monitor.tick(System.nanoTime());
    assertThat(monitor.cumulative(m.id()).getTotalCount()).isEqualTo(5000);
    assertThat(monitor.calls(m.id())).isEqualTo(5000);
  }

  /**
   * A pooled state (virtual threads) keeps its stripe from borrower to borrower, handed over
   * through its place in the table (the first free one of their window); it is never released, so
   * the stripe is never owned twice.
   */
  @Test
  void aPooledStateKeepsItsStripeFromBorrowerToBorrower() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(timedRules());
    MethodInfo m = register(engine);
    Monitor monitor = new Monitor(engine);
    Thread a = new Thread(() -> borrowAndCall(engine, m.id(), 1000));
    a.start();
    a.join();
    assertThat(engine.threads).hasSize(1); // the same place, given back after each call
    ThreadState pooled = engine.threads.peek();
    assertThat(pooled.slot).isNotNegative();
    assertThat(engine.lent(a)).isNull();
    int stripe = pooled.stripe;
    assertThat(stripe).isBetween(0, LatencyRecorder.OWNED - 1);
    monitor.tick(System.nanoTime());
    assertThat(engine.stripes.taken()).isEqualTo(1); // kept while pooled

    Thread b = sameWindowAs(a, () -> borrowAndCall(engine, m.id(), 500));
    b.start();
    b.join();
    assertThat(engine.threads).containsExactly(pooled);
    assertThat(pooled.stripe).isEqualTo(stripe);
    assertThat(engine.stripes.taken()).isEqualTo(1);
    monitor.tick(System.nanoTime());
    assertThat(monitor.cumulative(m.id()).getTotalCount()).isEqualTo(1500);
    assertThat(monitor.calls(m.id())).isEqualTo(1500);
  }
}
