package dev.firebreak.runtime;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.alert.AlertEvent;
import dev.firebreak.bootstrap.Dispatcher;
import dev.firebreak.bootstrap.ShortCircuitException;
import dev.firebreak.detect.KillSwitch;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.jfr.FlightEvents;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Plan.MethodPlan;
import dev.firebreak.runtime.Plan.RulePlan;
import dev.firebreak.runtime.Plan.RuleState;
import dev.firebreak.runtime.Plan.TargetPlan;
import dev.firebreak.runtime.Plan.TargetState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The hot path: what {@link dev.firebreak.bootstrap.Probe} calls on every instrumented call.
 *
 * <p>{@link #enter} and {@link #exit} take no lock and never block: they touch the calling thread's
 * own {@link ThreadState}, read the immutable {@link Plan} in force and, for a timed target, add
 * one to a bucket of the method's {@link LatencyRecorder}. They allocate only on rare paths: the
 * first use of a place of the platform threads' table (its state, registered with one lock-free
 * insertion), a thread that found its window of the table full (a state of its own, through a
 * thread-local), an array that must grow, the first call into a recorder's stripe, and a rule
 * firing, which builds an alert event (at most one per rule and target per {@code repeat-interval})
 * for the alert thread.
 *
 * <p>A platform thread takes a place of a table on its first tracked call (one compare-and-set) and
 * holds it for its life; the state at that place, counts and all, goes to the next thread once the
 * evaluator (or that thread, finding its window full) sees the holder dead (see {@link #hold}). A
 * thread that dies allocated nothing for the agent and leaves nothing for the collector.
 *
 * <p>A virtual thread has no state of its own: it borrows a pooled one from a small table for each
 * outermost tracked call (one compare-and-set) and gives it back at its end (one store), with no
 * thread-local and no allocation (see {@link #claim}). Only when every place of its window is held
 * (more virtual threads inside tracked calls at once than the window has places, e.g. blocked in
 * I/O) does one borrow from the idle pool through a thread-local, which allocates the JDK's
 * thread-local map and entry once per such call.
 *
 * <p>Only a timed target (one with a latency or duration rule, or {@code histogram: true}) reads
 * the clock: a depth or budget guard costs no clock read and records no latency.
 */
public final class Engine extends Dispatcher {
  private final MethodRegistry methods = new MethodRegistry();
  private final CounterRegistry counters = new CounterRegistry();

  /**
   * Every state made: the tables' (made once per place, kept, lent from thread to thread) and the
   * platform threads' own ones. Registering is one lock-free insertion (no lock that application
   * threads share, no copy of the list); the evaluator removes the own states of dead threads.
   */
  final Queue<ThreadState> threads = new ConcurrentLinkedQueue<>();

  /**
   * How many places of the table a virtual thread looks at: its window, taken first free first, so
   * that the states in use are as few as the virtual threads inside a tracked call at once (on a
   * small machine, about one per carrier): they stay in the carriers' caches and own the latency
   * recorders' stripes (see {@link LatencyRecorder.Stripes}). A virtual thread that finds its
   * window full borrows from the idle pool.
   */
  static final int PROBES = 8;

  /**
   * Windows of the table: one per 4 processors, rounded up to a power of two, at most 16; a virtual
   * thread's window is chosen by its id, so that carriers of a large machine do not all scan the
   * same places.
   */
  static final int WINDOWS =
      Integer.highestOneBit(
          Math.max(1, Math.min(16, Runtime.getRuntime().availableProcessors() / 4)) * 2 - 1);

  /** Places in the table. */
  static final int SLOTS = WINDOWS * PROBES;

  /** How many places of the platform threads' table a thread looks at (see {@link #held}). */
  static final int HELD_PROBES = 8;

  /** Windows of the platform threads' table, chosen by thread id. */
  static final int HELD_WINDOWS = 32;

  /** Places in the platform threads' table. */
  static final int HELD_SLOTS = HELD_WINDOWS * HELD_PROBES;

  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(ThreadState[].class);

  /**
   * Virtual threads' states: pooled states in a fixed table, each made on first use, then lent to
   * one thread at a time, from its first tracked call to the end of its outermost one (see {@link
   * #claim}). No thread-local, nothing allocated, no queue: a virtual thread per request costs one
   * compare-and-set and one store. Every state made is also in {@link #threads}, for the readers.
   */
  private final ThreadState[] slots = new ThreadState[SLOTS];

  /**
   * Platform threads' states: a thread takes the first free place of its window on its first
   * tracked call and holds it for its life; the evaluator frees the places of dead threads (see
   * {@link #reap}), and the next thread takes the state over, counts and all. So a thread allocates
   * nothing, not even the JDK's thread-local map: a short-lived thread that allocates nothing of
   * its own then takes no allocation buffer of the heap either (a new thread's first allocation
   * takes one, the rest of which is lost when it dies: with 20,000 such threads, 150 young
   * collections instead of 4). A thread that finds its window full has a state of its own, through
   * {@link #local}.
   */
  private final ThreadState[] held = new ThreadState[HELD_SLOTS];

  /**
   * How many platform threads have a state of their own ({@link #local}): while none does, looking
   * for a platform thread's state never touches the thread-local (whose first use on a thread makes
   * its thread-local map).
   */
  final AtomicInteger ownStates = new AtomicInteger();

  /**
   * Pooled states no virtual thread holds now, for the virtual threads that found every place of
   * the table they look at taken (see {@link ThreadState#pooled}): lent through {@link #borrowed}.
   */
  final Queue<ThreadState> idle = new ConcurrentLinkedQueue<>();

  /** The state a virtual thread holds from the idle pool, if it holds one. */
  private final ThreadLocal<ThreadState> borrowed = new ThreadLocal<>();

  /**
   * How many virtual threads hold a state from the idle pool now: while none does, looking for a
   * virtual thread's state never touches {@link #borrowed} (whose first use on a thread makes its
   * thread-local map).
   */
  final AtomicInteger borrowers = new AtomicInteger();

  /** {@code Thread::isVirtual} on JDK 21+, null before. */
  private static final java.lang.invoke.MethodHandle IS_VIRTUAL = isVirtualHandle();

  /** Threads registered so far: the evaluator looks for dead ones early when this rises fast. */
  final LongAdder registered = new LongAdder();

  /**
   * By method id: its latencies, shared by all threads. A method that stops being timed gets a
   * fresh one, so a target removed and added again starts afresh (in-flight calls may still write
   * into the old one, which nobody reads any more).
   */
  private volatile LatencyRecorder[] recorders = new LatencyRecorder[0];

  /** Which recorder stripes are owned by a thread state (the same one in every recorder). */
  final LatencyRecorder.Stripes stripes = new LatencyRecorder.Stripes();

  /**
   * The state of its own of a platform thread that found its window of {@link #held} full. No
   * initial value: a look at it by a thread that has none must not make one.
   */
  private final ThreadLocal<ThreadState> local = new ThreadLocal<>();

  private final Map<String, TargetState> targetStates = new ConcurrentHashMap<>();
  private final Map<String, RuleState> ruleStates = new ConcurrentHashMap<>();
  private final AlertDispatcher alerts;
  private volatile Plan plan = Plan.EMPTY;
  private volatile long repeatNanos = 30_000_000_000L;
  private volatile NetEvents net;

  public Engine(AlertDispatcher alerts) {
    this.alerts = alerts;
  }

  // ---------------------------------------------------------------- rules

  /**
   * Swaps in new rules. Kill switches and counters of targets that stay keep their state; a target
   * whose definition changed starts over with a closed switch; the state of targets and rules that
   * are gone is released, so a target removed and added again starts afresh. Calls in flight finish
   * under the plan they entered with (their frames hold it).
   */
  public synchronized void apply(RuleSet rules) {
    Plan old = plan;
    repeatNanos = rules.alerts().repeatInterval().toNanos();
    Set<String> targetNames = new HashSet<>();
    Set<String> ruleKeys = new HashSet<>();
    for (Target t : rules.targets()) {
      targetNames.add(t.name());
      for (Rule r : t.rules()) {
        ruleKeys.add(ruleKey(r, t));
      }
    }
    targetStates.keySet().retainAll(targetNames);
    ruleStates.keySet().retainAll(ruleKeys);
    Plan next = build(rules, methods.all());
    for (TargetPlan t : next.targets) {
      TargetPlan before = old.target(t.name);
      if (before != null && !sameDefinition(before.target, t.target)) {
        t.killSwitch.forceClose();
      }
    }
    plan = next;
    releaseRecorders(next);
  }

  /** Methods no longer timed start with an empty recorder: their old latencies are released. */
  private void releaseRecorders(Plan p) {
    LatencyRecorder[] rs = recorders.clone();
    for (int id = 0; id < rs.length; id++) {
      MethodPlan mp = id < p.methods.length ? p.methods[id] : null;
      if ((mp == null || !mp.target.timed) && rs[id].used()) {
        rs[id] = new LatencyRecorder();
      }
    }
    recorders = rs;
  }

  private static String ruleKey(Rule r, Target t) {
    return r.name() + "|" + t.name();
  }

  private static boolean sameDefinition(Target a, Target b) {
    return a.withoutPositions().equals(b.withoutPositions());
  }

  /** The kill switch of a target in force, or null: for the admin endpoints. */
  public KillSwitch killSwitch(String target) {
    TargetPlan t = plan.target(target);
    return t == null ? null : t.killSwitch;
  }

  public RuleSet rules() {
    return plan.rules;
  }

  private Plan build(RuleSet rules, List<MethodInfo> known) {
    if (rules == null) {
      return Plan.EMPTY;
    }
    long openFor = rules.killSwitch().openFor().toNanos();
    int halfOpen = rules.killSwitch().halfOpenCalls();
    boolean observeFile = rules.mode() == Mode.OBSERVE;
    // every counter id first, so each target knows how many slots the whole plan uses
    for (Target t : rules.targets()) {
      counters.id("target:" + t.name());
      counters.id(t.depthCounter());
      for (Rule r : t.rules()) {
        if (r.condition() instanceof Rule.CallsPerInvocation c) {
          counters.id("budget:" + ruleKey(r, t));
          counters.id("target:" + c.of());
        }
      }
    }
    int slots = counters.size();
    List<TargetPlan> targets = new ArrayList<>();
    for (Target t : rules.targets()) {
      int own = counters.id("target:" + t.name());
      int counter = counters.id(t.depthCounter());
      TargetState ts = targetStates.get(t.name());
      if (ts == null) { // build runs under this engine's lock, as every writer of the map
        ts = new TargetState(new KillSwitch(openFor, halfOpen));
        targetStates.put(t.name(), ts);
      }
      ts.killSwitch.configure(openFor, halfOpen);
      List<RulePlan> depth = new ArrayList<>();
      List<RulePlan> latency = new ArrayList<>();
      List<RulePlan> stuck = new ArrayList<>();
      List<RulePlan> budget = new ArrayList<>();
      for (Rule r : t.rules()) {
        RuleState rs = ruleState(ruleKey(r, t));
        if (r.condition() instanceof Rule.CallsPerInvocation c) {
          budget.add(
              new RulePlan(
                  r,
                  rules.mode(),
                  rs,
                  counters.id("budget:" + ruleKey(r, t)),
                  counters.id("target:" + c.of())));
          continue;
        }
        RulePlan rp = new RulePlan(r, rules.mode(), rs, -1, -1);
        if (r.condition() instanceof Rule.Depth) {
          depth.add(rp);
        } else if (r.condition() instanceof Rule.Latency) {
          latency.add(rp);
        } else if (r.condition() instanceof Rule.Stuck) {
          stuck.add(rp);
        }
      }
      RulePlan[] depthRules = depth.toArray(new RulePlan[0]);
      Arrays.sort(depthRules, RulePlan.BY_DEPTH_LIMIT);
      int[] resets = resetsOf(rules, t);
      targets.add(
          new TargetPlan(
              t,
              own,
              counter,
              t.force() == Target.Force.OPEN && !observeFile,
              depthRules,
              latency.toArray(new RulePlan[0]),
              stuck.toArray(new RulePlan[0]),
              budget.toArray(new RulePlan[0]),
              resets,
              slots,
              ts));
    }
    TargetPlan[] tp = targets.toArray(new TargetPlan[0]);
    Plan partial = new Plan(rules, new MethodPlan[0], tp);
    MethodPlan[] mp = new MethodPlan[known.size()];
    for (MethodInfo m : known) {
      TargetPlan t = partial.target(m.targetName());
      mp[m.id()] = t == null ? null : new MethodPlan(m, t);
    }
    return new Plan(rules, mp, tp);
  }

  /**
   * The budget counters that {@code t}'s calls reset: of every budget rule counted in {@code t}.
   */
  private int[] resetsOf(RuleSet rules, Target t) {
    int[] ids = new int[0];
    for (Target x : rules.targets()) {
      for (Rule r : x.rules()) {
        if (r.condition() instanceof Rule.CallsPerInvocation c && c.of().equals(t.name())) {
          ids = Arrays.copyOf(ids, ids.length + 1);
          ids[ids.length - 1] = counters.id("budget:" + ruleKey(r, x));
        }
      }
    }
    return ids;
  }

  /** The state of a rule of a target, made on first sight. */
  private RuleState ruleState(String key) {
    RuleState rs = ruleStates.get(key);
    if (rs == null) {
      RuleState fresh = new RuleState();
      rs = ruleStates.putIfAbsent(key, fresh);
      return rs == null ? fresh : rs;
    }
    return rs;
  }

  /** Registers a method being instrumented for {@code target}; its plan is in force at once. */
  public synchronized MethodInfo register(
      String className,
      String name,
      String descriptor,
      String label,
      String returnType,
      List<String> parameterTypes,
      String targetName) {
    MethodInfo info =
        methods.register(
            className, name, descriptor, label, returnType, parameterTypes, targetName);
    Plan p = plan;
    if (info.id() >= p.methods.length
        || p.methods[info.id()] == null
        || p.methods[info.id()].info != info) {
      MethodPlan[] mp = Arrays.copyOf(p.methods, Math.max(p.methods.length, methods.size()));
      TargetPlan t = p.target(info.targetName());
      if (t != null) {
        mp[info.id()] = new MethodPlan(info, t);
      }
      plan = new Plan(p.rules, mp, p.targets);
    }
    LatencyRecorder[] rs = recorders;
    if (rs.length < methods.size()) {
      rs = Arrays.copyOf(rs, methods.size());
      for (int i = 0; i < rs.length; i++) {
        if (rs[i] == null) {
          rs[i] = new LatencyRecorder();
        }
      }
      recorders = rs;
    }
    return info;
  }

  public MethodRegistry methods() {
    return methods;
  }

  // ---------------------------------------------------------------- hot path

  /**
   * A platform thread's state of its own, on its first call when its window of the table was full:
   * registered for the readers.
   */
  private ThreadState newThreadState(Thread t) {
    ThreadState ts = new ThreadState(t);
    threads.add(ts);
    registered.increment();
    ownStates.incrementAndGet(); // before the thread-local is set: its owner looks at it from now
    local.set(ts);
    return ts;
  }

  /**
   * The calling thread's state, for a call that is tracked: the place a platform thread holds (or
   * its own state), or the pooled state a virtual thread holds, or, if it holds none, one it claims
   * now.
   */
  private ThreadState state() {
    Thread t = Thread.currentThread();
    if (!isVirtual(t)) {
      ThreadState ts = holding(t);
      return ts != null ? ts : hold(t);
    }
    ThreadState ts = lent(t);
    return ts != null ? ts : claim(t);
  }

  /** The calling thread's state if it has one (a virtual thread's may be null). */
  private ThreadState current() {
    Thread t = Thread.currentThread();
    if (!isVirtual(t)) {
      ThreadState ts = holding(t);
      return ts != null ? ts : hold(t);
    }
    return lent(t);
  }

  /**
   * The place platform thread {@code t} holds, or its own state, or null: a look along its window
   * up to its place or the first place never used, then (only while some platform thread has a
   * state of its own) at the thread-local.
   */
  private ThreadState holding(Thread t) {
    ThreadState ts = heldBy(held, heldWindow(t), HELD_PROBES, t);
    return ts != null || ownStates.get() == 0 ? ts : local.get();
  }

  /**
   * The state {@code t} holds among the {@code probes} places of {@code table} from {@code first},
   * or null: a look up to its place or the first place never used.
   */
  private static ThreadState heldBy(ThreadState[] table, int first, int probes, Thread t) {
    for (int i = 0; i < probes; i++) {
      ThreadState ts = table[first + i];
      if (ts == null) {
        break; // the places of a window are made in order: none is further on
      }
      if (ts.lentTo(t)) {
        return ts;
      }
    }
    return null;
  }

  /** The first place of platform thread {@code t}'s window. */
  @SuppressWarnings("deprecation") // Thread.threadId() is JDK 19+; getId() is the same field
  static int heldWindow(Thread t) {
    return ((int) t.getId() & (HELD_WINDOWS - 1)) * HELD_PROBES;
  }

  /**
   * Platform thread {@code t} (which holds none) takes the first free place of its window, made on
   * its first use, for its life; if all are taken, it gets a state of its own.
   */
  private ThreadState hold(Thread t) {
    int first = heldWindow(t);
    for (int i = 0; i < HELD_PROBES; i++) {
      ThreadState ts = heldAt(first + i);
      if (ts.tryLend(t)) {
        registered.increment(); // the evaluator frees the places of dead threads sooner
        return ts;
      }
    }
    // every place is held: one whose thread died since the evaluator last looked is taken over
    for (int i = 0; i < HELD_PROBES; i++) {
      ThreadState ts = held[first + i];
      if (ts.takeOverFromDeadHolder(t)) {
        registered.increment();
        return ts;
      }
    }
    return newThreadState(t);
  }

  /**
   * The state at place {@code k} of the platform threads' table, made now if it is its first use.
   */
  private ThreadState heldAt(int k) {
    return placeAt(held, k, true);
  }

  /**
   * The pooled state virtual thread {@code t} holds, or null: a look along its window, up to the
   * place it holds or the first place never used; then (only while some virtual thread holds one
   * from the idle pool) at its thread-local.
   */
  ThreadState lent(Thread t) {
    ThreadState ts = heldBy(slots, window(t), PROBES, t);
    return ts != null || borrowers.get() == 0 ? ts : borrowed.get();
  }

  /** The first place of virtual thread {@code t}'s window in the table. */
  @SuppressWarnings("deprecation") // Thread.threadId() is JDK 19+; getId() is the same field
  static int window(Thread t) {
    return WINDOWS == 1 ? 0 : ((int) t.getId() & (WINDOWS - 1)) * PROBES;
  }

  /**
   * Lends virtual thread {@code t} (which holds none) a pooled state: the first free place of its
   * window, made on its first use; if all are taken, one from the idle pool, held through a
   * thread-local. Given back when its outermost tracked call ends ({@link #giveBack}); the
   * evaluator takes back those of threads that died holding one.
   */
  ThreadState claim(Thread t) {
    int first = window(t);
    for (int i = 0; i < PROBES; i++) {
      ThreadState ts = at(first + i);
      if (ts.tryLend(t)) {
        return ts;
      }
    }
    return borrow(t);
  }

  /** The state at place {@code k} of the table, made now if it is its first use. */
  private ThreadState at(int k) {
    return placeAt(slots, k, false);
  }

  /**
   * The state at place {@code k} of {@code table}, made now (one held for a thread's life, or one
   * lent per outermost call) if nobody made it yet, and registered for the readers.
   */
  private ThreadState placeAt(ThreadState[] table, int k, boolean forLife) {
    ThreadState ts = (ThreadState) SLOT.getAcquire(table, k);
    if (ts != null) {
      return ts;
    }
    ThreadState fresh = forLife ? ThreadState.held(k) : new ThreadState(k);
    ThreadState won = (ThreadState) SLOT.compareAndExchange(table, k, null, fresh);
    if (won != null) {
      return won;
    }
    threads.add(fresh);
    return fresh;
  }

  /** Every place of the table {@code t} looks at is taken: a state from the idle pool. */
  private ThreadState borrow(Thread t) {
    ThreadState ts = idle.poll();
    if (ts != null) {
      ts.lend(t);
    } else {
      ts = new ThreadState(t, true);
      threads.add(ts);
    }
    borrowers.incrementAndGet();
    borrowed.set(ts);
    return ts;
  }

  private static java.lang.invoke.MethodHandle isVirtualHandle() {
    try {
      return java.lang.invoke.MethodHandles.publicLookup()
          .findVirtual(
              Thread.class, "isVirtual", java.lang.invoke.MethodType.methodType(boolean.class));
    } catch (ReflectiveOperationException e) {
      return null; // JDK 17: no virtual threads
    }
  }

  static boolean isVirtual(Thread t) {
    try {
      return IS_VIRTUAL != null && (boolean) IS_VIRTUAL.invokeExact(t);
    } catch (Throwable e) {
      return false;
    }
  }

  /**
   * A virtual thread's outermost tracked call is over (or its short-circuit's fallback ran): its
   * pooled state goes back, with its counts, for the next virtual thread: free again at its place
   * in the table (one store), or into the idle pool.
   */
  private void giveBack(ThreadState ts) {
    if (ts.slot >= 0) {
      ts.giveBack(); // from here on another thread may hold it: no touching it
      return;
    }
    borrowed.remove();
    ts.giveBack();
    idle.offer(ts);
    borrowers.decrementAndGet();
  }

  /** A platform thread's state of its own was retired (the thread is dead). */
  void ownStateRetired() {
    ownStates.decrementAndGet();
  }

  /** A pooled state the evaluator took back from a borrower that died holding it. */
  void reclaimed(ThreadState ts) {
    if (ts.held) {
      if (ts.freeStripe >= 0) {
        stripes.release(ts.freeStripe);
        ts.freeStripe = -1;
      }
      return;
    }
    if (ts.slot < 0) {
      idle.offer(ts);
      borrowers.decrementAndGet();
    }
  }

  /**
   * A virtual thread outside any tracked call holds no state: null, and the enter of its next
   * tracked call claims one.
   */
  @Override
  public Object thread() {
    return current();
  }

  /**
   * Kept under C2's inlining limit for hot methods (325 bytecode bytes), so it is compiled into the
   * instrumented method: everything that runs only when a rule may fire, a switch is open or a
   * thread's arrays must grow is in the methods it calls.
   *
   * <p>Nothing that can throw runs after the thread's depth changes: room is made first, the rules
   * are checked against the depth the call would have, and only a call that goes ahead records its
   * step, as a frame that its {@link #exit} pops. A failure before that leaves no trace; a
   * short-circuited call records none. The token is the frame's index + 2 (0 and 1 mean
   * short-circuited and untracked).
   */
  @Override
  public long enter(int id, Object first, Object thread) {
    MethodPlan[] plans = plan.methods;
    MethodPlan p;
    if (id >= plans.length || (p = plans[id]) == null) {
      return UNTRACKED;
    }
    TargetPlan t = p.target;
    ThreadState ts = thread instanceof ThreadState s ? s : state();
    ts.ensure(id, t.counterSlots);
    ts.countCall(id);
    int[] depth = ts.depth;
    int own = t.ownCounter;
    long ticket = t.forcedOpen ? KillSwitch.REJECT : t.killSwitch.admit(depth[own] > 0);
    if (ticket == KillSwitch.REJECT) {
      return rejected(ts, p);
    }
    long now = t.timed ? System.nanoTime() : 0L;
    int d = depth[t.counter] + 1;
    if (t.budgetResets.length != 0 && depth[own] == 0) {
      resetBudgets(ts, t);
    }
    if ((d > t.lowestDepthLimit || t.budgetRules.length != 0) && checkRules(p, ts, d, first, now)) {
      return SHORT_CIRCUIT;
    }
    return push(ts, t, id, d, now, ticket);
  }

  /** A call the target's switch rejects: forced open, or open (or half-open without a permit). */
  private static long rejected(ThreadState ts, MethodPlan p) {
    TargetPlan t = p.target;
    if (t.forcedOpen) {
      return shortCircuit(ts, p, t.state.shortForced, "force: open", 0, false);
    }
    return shortCircuit(ts, p, t.state.shortOpen, t.killSwitch.openedBy(), 0, true);
  }

  /** An outermost call of a target that is some budget's `of` starts a new invocation. */
  private static void resetBudgets(ThreadState ts, TargetPlan t) {
    int[] resets = t.budgetResets;
    long[] budget = ts.budget;
    for (int i = 0; i < resets.length; i++) {
      budget[resets[i]] = 0;
    }
  }

  /**
   * The call goes ahead: the watchdog's clock for an outermost call, then its depth step and the
   * frame that lets its exit undo exactly this. After the first depth store there are only plain
   * array stores, into arrays {@link ThreadState#ensure} made room in, and no call: nothing can
   * throw between them, not even a StackOverflowError (the JVM checks the stack on calls).
   */
  private static long push(ThreadState ts, TargetPlan t, int id, int d, long now, long ticket) {
    int[] depth = ts.depth;
    int own = t.ownCounter;
    boolean outermost = depth[own] == 0;
    if (outermost) {
      // harmless if the call went no further: the watchdog looks only while depth[own] > 0
      ts.outerMethod[own] = id;
      ThreadState.LONGS.setOpaque(ts.outerStart, own, now);
    }
    int f = ts.top;
    ts.frames[f] = t;
    ts.frameStart[f] = now;
    ts.frameTicket[f] = ticket;
    depth[t.counter] = d;
    if (t.grouped) {
      depth[own]++;
    }
    ts.top = f + 1;
    if (d > ts.maxDepth[own]) {
      ts.maxDepth[own] = d;
    }
    return f + 2L;
  }

  /**
   * The depth rules (when the depth passed the lowest limit) and the call budgets: fires what went
   * over; true when a rule short-circuited the call.
   */
  private boolean checkRules(MethodPlan p, ThreadState ts, int d, Object first, long now) {
    TargetPlan t = p.target;
    RulePlan[] rules = t.depthRules;
    for (int i = 0; i < rules.length; i++) {
      RulePlan r = rules[i];
      if (d > r.depthLimit) {
        if (r.shortCircuits) {
          limited(r, p, ts, d, d, r.depthLimit, first, clock(now));
          return true;
        }
        if (d == r.depthLimit + 1) {
          fire(r, p, d, r.depthLimit, first, clock(now), null);
        }
      }
    }
    int[] depth = ts.depth;
    RulePlan[] budgets = t.budgetRules;
    for (int i = 0; i < budgets.length; i++) {
      RulePlan r = budgets[i];
      // inside an invocation of `of`: this call itself is one when `of` is its own target
      if (depth[r.budgetOf] <= 0 && r.budgetOf != t.ownCounter) {
        continue;
      }
      long n = ++ts.budget[r.budgetSlot];
      if (n > r.budgetLimit) {
        if (r.shortCircuits) {
          limited(r, p, ts, d, n, r.budgetLimit, first, clock(now));
          return true;
        }
        if (n == r.budgetLimit + 1) {
          fire(r, p, n, r.budgetLimit, first, clock(now), null);
        }
      }
    }
    return false;
  }

  /** The time a rule fires at: the call's start if its target is timed, else read now. */
  private static long clock(long now) {
    return now != 0 ? now : System.nanoTime();
  }

  /** The offending call of a {@code limit} or {@code trip} rule: fire and short-circuit it. */
  private void limited(
      RulePlan r,
      MethodPlan p,
      ThreadState ts,
      int d,
      double value,
      double threshold,
      Object first,
      long now) {
    TargetPlan t = p.target;
    fire(r, p, value, threshold, first, now, null);
    failTrial(t.killSwitch, r, now);
    shortCircuit(ts, p, t.state.shortLimit, r.name, d, false);
  }

  /**
   * A call short-circuited by a rule (a {@code limit}) while the switch is half-open belongs to a
   * trial (or is nested in one): the trial has failed and the switch opens again. Otherwise the
   * trial's permit would be spent without a verdict.
   */
  private static void failTrial(KillSwitch ks, RulePlan r, long now) {
    if (!r.trips && r.shortCircuits && ks.state() == KillSwitch.State.HALF_OPEN) {
      ks.trip(now, r.name);
    }
  }

  /** Records why the call is short-circuited, for its fallback, which runs next on this thread. */
  private static long shortCircuit(
      ThreadState ts,
      MethodPlan p,
      java.util.concurrent.atomic.LongAdder reason,
      String rule,
      int depth,
      boolean open) {
    reason.increment();
    ts.lastPlan = p;
    ts.lastRule = rule;
    ts.lastTarget = p.target.name;
    ts.lastDepth = depth;
    ts.lastOpen = open;
    return SHORT_CIRCUIT;
  }

  /**
   * Undoes exactly what the call's enter did, from the frame it pushed: never from the rules in
   * force now, which a reload or a detach may have changed meanwhile. Frames above it belong to
   * calls whose exit never ran (a StackOverflowError inside the advice): they are undone too.
   */
  @Override
  public void exit(int id, long token, Object thread) {
    ThreadState ts = thread instanceof ThreadState s ? s : current();
    long f = token - 2;
    if (ts == null || f < 0 || f >= ts.top) {
      return; // not a frame of this thread's: nothing of it to undo
    }
    int frame = (int) f;
    TargetPlan t = ts.frames[frame];
    long ticket = ts.frameTicket[frame];
    if (t.timed) {
      record(ts, id, System.nanoTime() - ts.frameStart[frame]);
    }
    ts.pop(frame);
    if (ticket != KillSwitch.ADMIT) {
      t.killSwitch.trialSucceeded(ticket);
    }
    if (ts.pooled && ts.top == 0) {
      giveBack(ts);
    }
  }

  /** A completed call of a timed target: its time into the thread's sum and the recorder. */
  void record(ThreadState ts, int id, long nanos) {
    ts.addNanos(id, nanos);
    LatencyRecorder[] rs = recorders;
    if (id < rs.length) {
      int s = ts.stripe;
      rs[id].record(s >= 0 ? s : stripes.claim(ts), nanos);
    }
  }

  /**
   * The fallback of the call this thread just short-circuited: from the plan that call entered with
   * (a reload between its enter and this must not turn a {@code throw} into a null).
   */
  @Override
  public Object fallback(int id, Object argument) {
    ThreadState ts = current();
    if (ts == null) {
      return fallback(NO_STATE, id, argument); // a failure inside the agent lost it: best effort
    }
    try {
      return fallback(ts, id, argument);
    } finally {
      if (ts.pooled && ts.top == 0) {
        giveBack(ts);
      }
    }
  }

  /** What {@link #fallback} reads when the thread has no state: no last short-circuit. */
  private static final ThreadState NO_STATE = new ThreadState(-1);

  private Object fallback(ThreadState ts, int id, Object argument) {
    MethodPlan p = ts.lastPlan;
    if (p == null || p.info.id() != id) {
      MethodPlan[] plans = plan.methods;
      p = id < plans.length ? plans[id] : null;
      if (p == null) {
        return null;
      }
    }
    if (p.throwing) {
      String why =
          ts.lastOpen
              ? "kill switch of target "
                  + ts.lastTarget
                  + " is open (tripped by rule "
                  + ts.lastRule
                  + ")"
              : ts.lastDepth > 0
                  ? "rule "
                      + ts.lastRule
                      + " short-circuited target "
                      + ts.lastTarget
                      + " at depth "
                      + ts.lastDepth
                  : "target " + ts.lastTarget + " is forced open";
      return new ShortCircuitException(
          "firebreak: " + why + " in " + p.info.className() + "." + p.info.label());
    }
    if (p.argumentIndex >= 0) {
      return argument;
    }
    return p.constant;
  }

  /**
   * Counts now as the last notification of rule {@code rule} of target {@code target}: the
   * auto-fence's own alert about a fence stands for its rule's first one, so the fence makes one
   * alert, not two (the rule's next one comes a repeat interval later, as for any rule).
   */
  public void notifiedNow(String rule, String target) {
    ruleState(rule + "|" + target).lastNotified.set(System.nanoTime());
  }

  /** Who hears of the auto-fence's net (a thread gone deep, an overflow), or null. */
  public void net(NetEvents events) {
    net = events;
  }

  @Override
  public void deep() {
    NetEvents n = net;
    if (n != null) {
      n.deep();
    }
  }

  @Override
  public void overflow(Throwable error) {
    NetEvents n = net;
    if (n != null) {
      n.overflow(error);
    }
  }

  // ---------------------------------------------------------------- firing

  /**
   * The calling thread's whole stack. Not {@link Thread#getStackTrace()}: it keeps only the top
   * 1024 frames (MaxJavaStackTraceDepth), so for a runaway that began before the agent watched it
   * (or a deep one) the frames that say where it came from would be cut off.
   */
  static StackTraceElement[] currentStack() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames
                    .map(StackWalker.StackFrame::toStackTraceElement)
                    .toArray(StackTraceElement[]::new));
  }

  /**
   * A rule fired: count it, trip the switch if the rule says so, and (at most once per repeat
   * interval) hand an event to the alert thread.
   */
  void fire(
      RulePlan r,
      MethodPlan p,
      double value,
      double threshold,
      Object first,
      long now,
      StackTraceElement[] stack) {
    r.state.triggers.increment();
    if (r.trips) {
      trip(r, p, now);
    }
    if (!r.state.mayNotify(now, repeatNanos)) {
      return;
    }
    try {
      recorded(r, p, value, threshold);
      if (!alerts.hasSinks()) {
        return;
      }
      if (stack == null) {
        stack = currentStack();
      }
      alerts.offer(
          event(r, p, value, threshold, Thread.currentThread().getName(), stack, first, false));
    } catch (StackOverflowError | RuntimeException e) {
      // a thread deep in a runaway may have no stack left to describe it: the rule has done its
      // work (counted, tripped), and the caller still short-circuits; only the event is lost
      AgentErrors.count("alert");
    }
  }

  private static void trip(RulePlan r, MethodPlan p, long now) {
    TargetState ts = p.target.state;
    ts.lastTripRule = r;
    ts.lastTripMethod = p;
    p.target.killSwitch.trip(now, r.name);
  }

  /** A rule fired on the agent's own thread (latency, watchdog) about another thread's calls. */
  void fireFrom(
      RulePlan r,
      MethodPlan p,
      double value,
      double threshold,
      String thread,
      long now,
      StackTraceElement[] stack) {
    r.state.triggers.increment();
    if (r.trips) {
      trip(r, p, now);
    }
    if (r.state.mayNotify(now, repeatNanos)) {
      recorded(r, p, value, threshold);
      if (alerts.hasSinks()) {
        alerts.offer(event(r, p, value, threshold, thread, stack, null, false));
      }
    }
  }

  /** The JFR side of a rule firing: the alert's facts, when a recording runs. */
  private static void recorded(RulePlan r, MethodPlan p, double value, double threshold) {
    FlightEvents.ruleTriggered(
        r.name, p.target.name, p.info.label(), r.actionLabel, r.modeLabel, value, threshold);
  }

  AlertEvent event(
      RulePlan r,
      MethodPlan p,
      double value,
      double threshold,
      String thread,
      StackTraceElement[] stack,
      Object first,
      boolean resolved) {
    RuleSet rules = plan.rules;
    return new AlertEvent(
        System.currentTimeMillis(),
        r.name,
        p.target.name,
        p.info.label(),
        r.actionLabel,
        r.modeLabel,
        value,
        threshold,
        thread,
        rules == null ? Map.of() : rules.alerts().labels(),
        rules == null ? "" : rules.sha256(),
        stack,
        Arguments.describe(first, p.info, p.target.captureArgument),
        resolved);
  }

  // ---------------------------------------------------------------- reader side

  Plan plan() {
    return plan;
  }

  public AlertDispatcher alerts() {
    return alerts;
  }

  Map<String, TargetState> targetStates() {
    return targetStates;
  }

  Map<String, RuleState> ruleStates() {
    return ruleStates;
  }

  CounterRegistry counters() {
    return counters;
  }

  LatencyRecorder[] recorders() {
    return recorders;
  }
}
