package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * The registry of thread states (issue 15): a thread registers without a shared lock, its state is
 * released once it is dead, with its counts folded in (exact, never going down), whether it died
 * between calls or in the middle of one; the evaluator holds nothing per thread.
 */
class ThreadRegistryTest {

  private static RuleSet rules(String targetRules) throws Exception {
    return RulesParser.parse(
        "test.yaml",
        ("version: 1\n"
                + "alerts: {log: 'off'}\n"
                + "targets:\n"
                + "  - {name: t, class: a.A, method: '*', fallback: return-null, rules: ["
                + targetRules
                + "]}\n")
            .getBytes(StandardCharsets.UTF_8));
  }

  private static MethodInfo register(Engine engine, String method) {
    return engine.register("a.A", method, "()V", method + "()", "void", List.of(), "t");
  }

  private static void calls(Engine engine, int id, int n) {
    for (int i = 0; i < n; i++) {
      long token = engine.enter(id, null, null);
      engine.exit(id, token, null);
    }
  }

  @Test
  void manyShortLivedThreadsAreReleasedWithEveryCallCountedAndCountsNeverGoDown() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> wentDown = new AtomicReference<>();
    // a scraper reading all along, interleaved with threads being registered, dying and released
    Thread scraper =
        new Thread(
            () -> {
              long last = 0;
              while (!done.get()) {
                long now = monitor.calls(m.id());
                if (now < last) {
                  wentDown.set(last + " -> " + now);
                }
                last = now;
                monitor.tick(System.nanoTime());
              }
            });
    scraper.start();
    int threads = 2000;
    for (int batch = 0; batch < threads / 100; batch++) {
      List<Thread> started = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        Thread t = new Thread(() -> calls(engine, m.id(), 10));
        t.start();
        started.add(t);
      }
      for (Thread t : started) {
        t.join();
      }
    }
    done.set(true);
    scraper.join();
    monitor.tick(System.nanoTime());
    assertThat(wentDown.get()).isNull();
    assertThat(monitor.calls(m.id())).isEqualTo(threads * 10L);
    assertThat(monitor.threadStates()).isZero();
  }

  @Test
  void aThreadThatDiesInTheMiddleOfACallIsReleasedWithItsCallCountedAndNothingInFlight()
      throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    int own = engine.plan().targets[0].ownCounter;
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch die = new CountDownLatch(1);
    Thread t =
        new Thread(
            () -> {
              calls(engine, m.id(), 4);
              engine.enter(m.id(), null, null); // its exit never runs
              entered.countDown();
              try {
                die.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    t.start();
    entered.await();
    monitor.tick(System.nanoTime());
    assertThat(monitor.inflight(own)).isEqualTo(1);
    assertThat(monitor.calls(m.id())).isEqualTo(5);
    die.countDown();
    t.join();
    monitor.tick(System.nanoTime());
    assertThat(monitor.threadStates()).isZero();
    assertThat(monitor.inflight(own)).isZero();
    assertThat(monitor.calls(m.id())).isEqualTo(5);
  }

  @Test
  void deadThreadsAreReleasedBetweenRoundsOnceManyStarted() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    int n = (int) Monitor.REAP_AFTER;
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(() -> calls(engine, m.id(), 1));
      t.start();
      t.join();
    }
    assertThat(monitor.threadStates()).isEqualTo(n);
    monitor.reapIfManyStarted();
    assertThat(monitor.threadStates()).isZero();
    assertThat(monitor.calls(m.id())).isEqualTo(n);
    // few new threads: no look before the next round
    Thread t = new Thread(() -> calls(engine, m.id(), 1));
    t.start();
    t.join();
    monitor.reapIfManyStarted();
    assertThat(monitor.threadStates()).isEqualTo(1);
  }

  /**
   * While threads keep starting, the running evaluator looks for dead ones every few milliseconds,
   * not once per 1,024 threads or per round: a dead thread's state lingers that long, and every
   * young collection it lingers through copies it. A thread a millisecond (about 1,000 a second,
   * fewer than 1,024 in the second between two rounds) never has more than a few states alive.
   */
  @Test
  void whileThreadsKeepStartingTheEvaluatorReleasesDeadOnesWithinMilliseconds() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    monitor.start();
    try {
      int n = 0;
      int most = 0;
      long until = System.nanoTime() + 1_500_000_000L;
      long sampleFrom = System.nanoTime() + 500_000_000L;
      while (System.nanoTime() < until) {
        Thread t = new Thread(() -> calls(engine, m.id(), 1));
        t.start();
        t.join();
        n++;
        Thread.sleep(1);
        if (System.nanoTime() > sampleFrom) {
          most = Math.max(most, monitor.threadStates());
        }
      }
      assertThat(n).as("threads started").isGreaterThan(100);
      assertThat(most).as("dead threads' states alive at once").isLessThan(Math.min(n / 2, 200));
      assertThat(monitor.calls(m.id())).isEqualTo(n);
    } finally {
      monitor.stop();
    }
  }

  /** {@code n} unstarted threads running {@code r} whose places are in one window of the table. */
  private static List<Thread> threadsOfOneWindow(int n, Runnable r) {
    List<Thread> out = new ArrayList<>();
    int window = -1;
    while (out.size() < n) {
      Thread t = new Thread(r);
      if (window < 0) {
        window = Engine.heldWindow(t);
      }
      if (Engine.heldWindow(t) == window) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * A platform thread holds a place of the table for its life and allocates no state of its own;
   * when every place of its window is held by a thread that died since the evaluator last looked
   * (here, each in the middle of a call), it takes one over: the dead thread's frame is undone and
   * its counts stay. Nothing is counted twice, nothing is left in flight once the evaluator looked.
   */
  @Test
  void aThreadWhoseWindowIsHeldByDeadThreadsTakesOneOverWithTheirFramesUndone() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    int own = engine.plan().targets[0].ownCounter;
    AtomicInteger started = new AtomicInteger();
    AtomicReference<ThreadState> took = new AtomicReference<>();
    List<Thread> window =
        threadsOfOneWindow(
            Engine.HELD_PROBES + 1,
            () -> {
              if (started.incrementAndGet() <= Engine.HELD_PROBES) {
                engine.enter(m.id(), null, null); // dies in the call: its exit never runs
                return;
              }
              calls(engine, m.id(), 2);
              took.set((ThreadState) engine.thread());
            });
    for (Thread t : window.subList(0, Engine.HELD_PROBES)) {
      t.start();
      t.join();
    }
    assertThat(monitor.statesMade()).isEqualTo(Engine.HELD_PROBES);
    assertThat(monitor.inflight(own)).isEqualTo(Engine.HELD_PROBES);
    Thread last = window.get(Engine.HELD_PROBES);
    last.start();
    last.join();
    assertThat(took.get()).isNotNull();
    assertThat(took.get().held).isTrue();
    assertThat(monitor.statesMade()).as("no new state").isEqualTo(Engine.HELD_PROBES);
    assertThat(monitor.inflight(own)).isEqualTo(Engine.HELD_PROBES - 1);
    assertThat(monitor.calls(m.id())).isEqualTo(Engine.HELD_PROBES + 2);
    monitor.tick(System.nanoTime());
    assertThat(monitor.inflight(own)).isZero();
    assertThat(monitor.threadStates()).isZero();
    assertThat(monitor.calls(m.id())).isEqualTo(Engine.HELD_PROBES + 2);
  }

  /**
   * A thread whose window is held by live threads gets a state of its own (through the
   * thread-local), released once it is dead with its counts folded in; then the threads of the
   * table no longer look at the thread-local.
   */
  @Test
  void aThreadWhoseWindowIsHeldByLiveThreadsHasAStateOfItsOwnUntilItDies() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    CountDownLatch holding = new CountDownLatch(Engine.HELD_PROBES);
    CountDownLatch end = new CountDownLatch(1);
    AtomicReference<ThreadState> spilled = new AtomicReference<>();
    List<Thread> window =
        threadsOfOneWindow(
            Engine.HELD_PROBES + 1,
            () -> {
              calls(engine, m.id(), 3);
              ThreadState ts = (ThreadState) engine.thread();
              if (!ts.held) {
                spilled.set(ts);
              }
              holding.countDown();
              try {
                end.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    for (Thread t : window.subList(0, Engine.HELD_PROBES)) {
      t.start();
    }
    holding.await();
    Thread last = window.get(Engine.HELD_PROBES);
    last.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> spilled.get() != null);
    assertThat(engine.ownStates.get()).isEqualTo(1);
    // meanwhile a thread of another window still takes a place, not a state of its own
    AtomicReference<ThreadState> other = new AtomicReference<>();
    Thread elsewhere;
    do {
      elsewhere =
          new Thread(
              () -> {
                calls(engine, m.id(), 3);
                other.set((ThreadState) engine.thread());
              });
    } while (Engine.heldWindow(elsewhere) == Engine.heldWindow(last));
    elsewhere.start();
    elsewhere.join();
    assertThat(other.get().held).isTrue();
    assertThat(engine.ownStates.get()).isEqualTo(1);
    assertThat(monitor.statesMade()).isEqualTo(Engine.HELD_PROBES + 2);
    assertThat(monitor.threadStates()).isEqualTo(Engine.HELD_PROBES + 2); // one dead, not seen yet
    end.countDown();
    for (Thread t : window) {
      t.join();
    }
    monitor.tick(System.nanoTime());
    assertThat(monitor.threadStates()).isZero();
    assertThat(monitor.statesMade()).as("its own state released").isEqualTo(Engine.HELD_PROBES + 1);
    assertThat(engine.ownStates.get()).isZero();
    assertThat(monitor.calls(m.id())).isEqualTo(3L * (Engine.HELD_PROBES + 2));
  }

  @Test
  void aDepthOnlyGuardRecordsNoLatencyAndALatencyRuleRecordsEveryCallOnceAcrossThreads()
      throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    calls(engine, m.id(), 3);
    assertThat(engine.recorders()[m.id()].used()).isFalse();

    engine.apply(
        rules(
            "{name: t-deep, depth: 50, action: limit},"
                + " {name: t-slow, latency: {percentile: 99, above: 1s, window: 5s}, action: alert}"));
    Monitor monitor = new Monitor(engine);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> calls(engine, m.id(), 1000));
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    monitor.tick(System.nanoTime());
    Histogram h = monitor.cumulative(m.id());
    assertThat(h.getTotalCount()).isEqualTo(8000);
    assertThat(monitor.calls(m.id())).isEqualTo(8003);
  }

  /**
   * A pooled state (what virtual threads borrow) whose borrower died in the middle of a call: the
   * evaluator takes it back, undoes its frame, keeps its counts, and lends it again.
   */
  @Test
  void aPooledStateWhoseBorrowerDiedMidCallIsTakenBackWithItsCountsKept() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    int own = engine.plan().targets[0].ownCounter;
    AtomicReference<ThreadState> lent = new AtomicReference<>();
    Thread borrower =
        new Thread(
            () -> {
              ThreadState ts = engine.claim(Thread.currentThread());
              lent.set(ts);
              long token = engine.enter(m.id(), null, ts);
              engine.exit(m.id(), token, ts); // outermost: given back
              // claims it again; its exit never runs
              engine.enter(m.id(), null, engine.claim(Thread.currentThread()));
            });
    borrower.start();
    borrower.join();
    assertThat(engine.lent(borrower)).isSameAs(lent.get());
    assertThat(monitor.inflight(own)).isEqualTo(1);
    monitor.tick(System.nanoTime());
    assertThat(engine.lent(borrower)).isNull();
    assertThat(monitor.inflight(own)).isZero();
    assertThat(monitor.calls(m.id())).isEqualTo(2);
    assertThat(monitor.threadStates()).isZero();
    assertThat(monitor.statesMade()).isEqualTo(1); // pooled: kept, counts and all
    Thread next = LatencyRecorderTest.sameWindowAs(borrower, () -> {});
    assertThat(engine.claim(next)).isSameAs(lent.get());
  }

  /**
   * Threads as a virtual thread per request uses them (simulated on platform threads: the engine
   * takes the virtual threads' path when it is handed their pooled state): each claims a pooled
   * state at its first tracked call, nested calls find it, and it is given back when its outermost
   * call ends. No thread-local, no idle pool, no more states than places of the table; every call
   * counted.
   */
  @Test
  void threadsBorrowStatesOfTheTableForTheirOutermostCallsWithEveryCallCounted() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    int own = engine.plan().targets[0].ownCounter;
    AtomicReference<String> wrong = new AtomicReference<>();
    Runnable request =
        () -> {
          Thread me = Thread.currentThread();
          for (int call = 0; call < 3; call++) {
            if (engine.lent(me) != null) {
              wrong.set(me + " holds a state before its first call");
            }
            ThreadState ts = engine.claim(me);
            long outer = engine.enter(m.id(), null, ts);
            ThreadState found = engine.lent(me);
            long inner = engine.enter(m.id(), null, found);
            if (found != ts || ts.depth(own) != 2) {
              wrong.set("nested call of " + me + " found " + found);
            }
            engine.exit(m.id(), inner, found);
            engine.exit(m.id(), outer, ts);
            if (engine.lent(me) != null) {
              wrong.set(me + " kept its state after its outermost call");
            }
          }
        };
    int threads = 2000;
    for (int batch = 0; batch < threads / 100; batch++) {
      List<Thread> started = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        Thread t = new Thread(request);
        t.start();
        started.add(t);
      }
      for (Thread t : started) {
        t.join();
      }
    }
    assertThat(wrong.get()).isNull();
    monitor.tick(System.nanoTime());
    assertThat(monitor.calls(m.id())).isEqualTo(threads * 3 * 2L);
    assertThat(monitor.inflight(own)).isZero();
    assertThat(monitor.statesMade()).isBetween(1, Engine.SLOTS);
    assertThat(engine.threads).allMatch(ts -> ts.slot >= 0);
    assertThat(engine.idle).isEmpty();
    assertThat(engine.borrowers.get()).isZero();
  }

  /**
   * A thread holds the first free place of its window, and a thread that holds none stops looking
   * at the first place never used: the states in use are as few as the threads holding one.
   */
  @Test
  void aThreadHoldsTheFirstFreePlaceOfItsWindow() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Thread holder = new Thread(() -> {});
    ThreadState first = engine.claim(holder);
    assertThat(first.slot).isEqualTo(Engine.window(holder));
    AtomicReference<String> wrong = new AtomicReference<>();
    Thread b =
        LatencyRecorderTest.sameWindowAs(
            holder,
            () -> {
              Thread me = Thread.currentThread();
              if (engine.lent(me) != null) {
                wrong.set("holds one before claiming");
              }
              ThreadState ts = engine.claim(me);
              if (ts.slot != first.slot + 1 || engine.lent(me) != ts) {
                wrong.set("claimed " + ts.slot + ", first place " + first.slot);
              }
              engine.exit(m.id(), engine.enter(m.id(), null, ts), ts);
              if (engine.lent(me) != null) {
                wrong.set("still holds it after giving it back");
              }
            });
    b.start();
    b.join();
    assertThat(wrong.get()).isNull();
    assertThat(engine.lent(holder)).isSameAs(first);
    assertThat(engine.threads).hasSize(2);
  }

  /**
   * A thread that finds every place it looks at taken borrows from the idle pool through a
   * thread-local, and gives it back there; the places of dead borrowers are taken back.
   */
  @Test
  void aThreadWhosePlacesAreTakenBorrowsFromTheIdlePool() throws Exception {
    Engine engine = new Engine(new AlertDispatcher());
    engine.apply(rules("{name: t-deep, depth: 50, action: limit}"));
    MethodInfo m = register(engine, "run");
    Monitor monitor = new Monitor(engine);
    AtomicReference<ThreadState> outer = new AtomicReference<>();
    AtomicReference<Object> inner = new AtomicReference<>();
    Thread late =
        new Thread(
            () -> {
              Thread me = Thread.currentThread();
              ThreadState ts = engine.claim(me);
              outer.set(ts);
              long token = engine.enter(m.id(), null, ts);
              inner.set(engine.lent(me));
              engine.exit(m.id(), token, ts);
              if (engine.lent(me) != null) {
                inner.set(null);
              }
            });
    // threads never started hold every place the late one looks at (as if they died holding)
    List<Thread> holders = new ArrayList<>();
    for (int i = 0; i < Engine.PROBES; i++) {
      Thread h = LatencyRecorderTest.sameWindowAs(late, () -> {});
      assertThat(engine.claim(h).slot).isEqualTo(Engine.window(late) + i);
      holders.add(h);
    }
    late.start();
    late.join();
    assertThat(outer.get()).isNotNull().isSameAs(inner.get());
    assertThat(outer.get().slot).isEqualTo(-1);
    assertThat(engine.idle).containsExactly(outer.get());
    assertThat(engine.borrowers.get()).isZero();
    monitor.tick(System.nanoTime()); // the holders are not alive: their places are taken back
    for (Thread h : holders) {
      assertThat(engine.lent(h)).isNull();
    }
    assertThat(monitor.calls(m.id())).isEqualTo(1);
  }

  @Test
  void theRecordersBucketsAreHdrHistogramsOwn() {
    Histogram reference = ThreadState.newHistogram();
    java.util.Random random = new java.util.Random(15);
    for (int i = 0; i < 100_000; i++) {
      long v =
          switch (i % 3) {
            case 0 -> random.nextInt(5000);
            case 1 -> (long) (Math.exp(random.nextDouble() * Math.log(ThreadState.HIGHEST_NANOS)));
            default -> ThreadState.HIGHEST_NANOS - random.nextInt(1000);
          };
      assertThat(LatencyRecorder.valueAt(LatencyRecorder.index(v)))
          .as("bucket of %d", v)
          .isEqualTo(reference.lowestEquivalentValue(v));
    }
    assertThat(LatencyRecorder.index(ThreadState.HIGHEST_NANOS))
        .isEqualTo(LatencyRecorder.BUCKETS - 1);
    assertThat(LatencyRecorder.BUCKETS)
        .isLessThanOrEqualTo(reference.getEstimatedFootprintInBytes() / 8);
  }
}
