package dev.firebreak.fence;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.alert.AlertEvent;
import dev.firebreak.alert.StackFolder;
import dev.firebreak.bootstrap.Net;
import dev.firebreak.errors.AgentErrors;
import dev.firebreak.instrument.ClassFilter;
import dev.firebreak.jfr.FlightEvents;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.Rule;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.MethodInfo;
import dev.firebreak.runtime.NetEvents;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The auto-fence: turns a runaway in methods no rule names into a fence, an automatic target.
 *
 * <p>The net ({@link Net}) reports a thread that went twice the section's {@code depth} deep under
 * it, and a stack overflow unwinding through it. On the application thread this class only takes
 * the stack (at most one walk per {@link #WALK_GAP_NANOS}, none when the queue is full) and queues
 * it; its own daemon thread finds the cycle ({@link CycleFinder}), keeps the cycle's methods that
 * are in {@code packages}, and has them put under one automatic target (the section's depth,
 * action, fallback and mode) by the agent, which retransforms their classes. One alert, one {@code
 * firebreak:} line with the rules that would name the fence permanently, one JFR event, and {@code
 * firebreak_auto_fences_total{target}}.
 *
 * <p>Fences belong to the rules in force: {@link #effective} adds them to every new rule set (with
 * that rule set's section), drops the ones a target of the file now names, and all of them when the
 * file has no {@code auto-fence} section any more.
 */
public final class AutoFences implements NetEvents {

  /** One fence: the methods of one cycle, named after the method the cycle entered by. */
  public record Fence(String name, List<String> members, String entry, List<String> cycle) {
    public Fence {
      members = List.copyOf(members);
      cycle = List.copyOf(cycle);
    }
  }

  /** A stack the net reported: its frames, or the overflow to take them from. */
  private record Sighting(StackTraceElement[] frames, Throwable overflow, String thread) {}

  /** At most one stack walk on application threads per this many nanoseconds. */
  static final long WALK_GAP_NANOS = 50_000_000L;

  /** The most frames taken of a deep thread. */
  static final int MAX_FRAMES = 4096;

  private static final Function<Stream<StackWalker.StackFrame>, StackTraceElement[]> TOP_FRAMES =
      frames ->
          frames
              .limit(MAX_FRAMES)
              .map(StackWalker.StackFrame::toStackTraceElement)
              .toArray(StackTraceElement[]::new);

  /**
   * Stacks handed to the auto-fence's thread: a lock-free mailbox of 8 slots. No lock, not even a
   * queue's: a report can run out of stack anywhere (an overflow's report runs near the top of a
   * full stack), and a lock abandoned half-taken would stop the auto-fence for good.
   */
  private final AtomicReferenceArray<Sighting> sightings = new AtomicReferenceArray<>(8);

  private final AtomicLong nextWalk = new AtomicLong(System.nanoTime());
  private final List<Fence> fences = new CopyOnWriteArrayList<>();
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Set<String> saidOnce = ConcurrentHashMap.newKeySet();

  /** Stacks looked at so far (tests wait for it). */
  private final AtomicLong looked = new AtomicLong();

  private final ClassFilter filter = new ClassFilter();
  private final Engine engine;
  private final AlertDispatcher alerts;
  private final Consumer<Set<String>> installer;
  private volatile RuleSet rules;
  private volatile Thread worker;

  /**
   * @param installer puts {@link #effective} of the rules in force in force and retransforms the
   *     loaded classes of the names it is given; called on this class's own thread
   */
  public AutoFences(Engine engine, AlertDispatcher alerts, Consumer<Set<String>> installer) {
    this.engine = engine;
    this.alerts = alerts;
    this.installer = installer;
  }

  /** {@code firebreak_auto_fences_total} by target. */
  public Map<String, LongAdder> counts() {
    return counts;
  }

  /** How many reported stacks the auto-fence's thread has looked at. */
  long looked() {
    return looked.get();
  }

  public List<Fence> fences() {
    return List.copyOf(fences);
  }

  // ------------------------------------------------------------------ rules

  /**
   * {@code next} with the fences in force added as automatic targets (with {@code next}'s section),
   * minus those a target of the file now names, or all of them when {@code next} has no section.
   * Also sets the net's depth. Call with the agent's lock held, before putting the result in force.
   */
  public synchronized RuleSet effective(RuleSet next) {
    List<Target> own = new ArrayList<>();
    for (Target t : next.targets()) {
      if (!t.automatic()) {
        own.add(t);
      }
    }
    RuleSet.AutoFence section = next.autoFence();
    if (section == null) {
      if (!fences.isEmpty()) {
        AgentErrors.log(
            "auto-fence: the rules have no auto-fence section now; "
                + fences.size()
                + " fence(s) taken down");
        fences.clear();
      }
      Net.deep = Integer.MAX_VALUE;
      RuleSet out = own.size() == next.targets().size() ? next : next.withTargets(own);
      rules = out;
      return out;
    }
    List<Target> all = new ArrayList<>(own);
    for (Fence f : fences) {
      String why = takenDown(f, own, next);
      if (why != null) {
        fences.remove(f);
        AgentErrors.log("auto-fence: fence " + f.name() + " taken down: " + why);
        continue;
      }
      all.add(target(f, section));
    }
    Net.deep = (int) Math.min(Integer.MAX_VALUE, 2L * section.depth());
    RuleSet out = next.withTargets(all);
    rules = out;
    startWorker();
    return out;
  }

  /** Why a fence goes with these rules, or null when it stays. */
  private String takenDown(Fence f, List<Target> own, RuleSet next) {
    for (Target t : own) {
      if (covers(t, f.members())) {
        return "target " + t.name() + " of the rules file names its methods";
      }
    }
    for (Target t : own) {
      if (t.name().equals(f.name())) {
        return "the rules file has a target of that name";
      }
    }
    for (String m : f.members()) {
      if (!filter.inNet(className(m), next)) {
        return m.replace('#', '.') + " is no longer in auto-fence.packages";
      }
    }
    return null;
  }

  /** Does file target {@code t} name every one of these methods? */
  static boolean covers(Target t, List<String> members) {
    Glob c = Glob.forClass(t.classGlob());
    Glob m = Glob.forMethod(t.methodGlob());
    for (String member : members) {
      if (!c.matches(className(member)) || !m.matches(methodName(member))) {
        return false;
      }
    }
    return true;
  }

  /** The automatic target of a fence, under the section in force. */
  static Target target(Fence f, RuleSet.AutoFence section) {
    String entry = f.entry();
    Rule rule =
        new Rule(
            "auto-fence",
            new Rule.Depth(section.depth()),
            section.action(),
            section.mode(),
            section.position());
    return new Target(
        f.name(),
        className(entry),
        methodName(entry),
        false,
        null,
        section.fallback(),
        Target.Force.CLOSED,
        false,
        false,
        true,
        List.of(rule),
        section.position(),
        f.members());
  }

  // ------------------------------------------------------------------ net events

  /** On the application thread that went deep: take its stack, at most once per gap. */
  @Override
  public void deep() {
    RuleSet rs = rules;
    if (rs == null || rs.autoFence() == null || !roomFor()) {
      return;
    }
    long now = System.nanoTime();
    long next = nextWalk.get();
    if (now - next < 0 || !nextWalk.compareAndSet(next, now + WALK_GAP_NANOS)) {
      return;
    }
    StackTraceElement[] frames = StackWalker.getInstance().walk(TOP_FRAMES);
    hand(new Sighting(frames, null, Thread.currentThread().getName()));
  }

  /** On the application thread the overflow unwinds on: its frames are read on our thread. */
  @Override
  public void overflow(Throwable error) {
    RuleSet rs = rules;
    if (rs != null && rs.autoFence() != null) {
      hand(new Sighting(null, error, Thread.currentThread().getName()));
    }
  }

  private boolean roomFor() {
    for (int i = 0; i < sightings.length(); i++) {
      if (sightings.get(i) == null) {
        return true;
      }
    }
    return false;
  }

  /** Into a free slot, or dropped when all are taken (the thread has enough to look at). */
  private void hand(Sighting s) {
    for (int i = 0; i < sightings.length(); i++) {
      if (sightings.compareAndSet(i, null, s)) {
        LockSupport.unpark(worker);
        return;
      }
    }
  }

  /**
   * Starts the auto-fence's thread, once. Everything the reports run on an application thread is
   * loaded here first: a class loaded near the top of an overflowed stack would run the class-file
   * transformers there, out of stack.
   */
  private synchronized void startWorker() {
    if (worker != null) {
      return;
    }
    Sighting warm = new Sighting(null, null, Thread.currentThread().getName());
    sightings.compareAndSet(0, null, warm);
    sightings.compareAndSet(0, warm, null);
    LockSupport.unpark(Thread.currentThread());
    StackWalker.getInstance().walk(TOP_FRAMES);
    Thread t = new Thread(this::work, "firebreak-auto-fence");
    t.setDaemon(true);
    worker = t;
    t.start();
  }

  private void work() {
    while (true) {
      boolean any = false;
      for (int i = 0; i < sightings.length(); i++) {
        Sighting s = sightings.getAndSet(i, null);
        if (s == null) {
          continue;
        }
        any = true;
        try {
          look(s);
        } catch (RuntimeException | LinkageError e) {
          AgentErrors.report("auto-fence", "auto-fence failed: " + AgentErrors.describe(e));
        } finally {
          looked.incrementAndGet();
        }
      }
      if (!any) {
        // woken by hand(); the timeout covers a wake-up that came before the worker was known
        LockSupport.parkNanos(this, 200_000_000L);
      }
    }
  }

  // ------------------------------------------------------------------ a runaway

  /** Finds the cycle on a reported stack and fences it, if it is new and may be fenced. */
  void look(Sighting s) {
    RuleSet rs = rules;
    RuleSet.AutoFence section = rs == null ? null : rs.autoFence();
    if (section == null) {
      return;
    }
    StackTraceElement[] frames = s.frames() != null ? s.frames() : s.overflow().getStackTrace();
    // an overflow's trace is cut at MaxJavaStackTraceDepth (1024 by default): all of it may be
    // the cycle, which need not be deeper than that
    int minSpan =
        s.overflow() != null ? Math.min(section.depth(), frames.length / 2) : section.depth();
    CycleFinder.Cycle c = CycleFinder.find(frames, minSpan);
    if (c == null) {
      return;
    }
    StackTraceElement[] round = c.round();
    Set<String> members = new LinkedHashSet<>();
    for (StackTraceElement f : round) {
      if (filter.inNet(f.getClassName(), rs) && !f.getMethodName().startsWith("lambda$")) {
        members.add(f.getClassName() + "#" + f.getMethodName());
      }
    }
    List<String> folded = StackFolder.fold(round, StackFolder.MAX_LINES);
    if (members.isEmpty()) {
      once(
          "outside:" + new java.util.TreeSet<>(folded),
          "a thread ran away in a cycle with no method in auto-fence.packages, nothing fenced: "
              + String.join(" -> ", folded));
      return;
    }
    for (Target t : rs.targets()) {
      for (String m : members) {
        if (t.automatic() ? t.members().contains(m) : covers(t, List.of(m))) {
          return; // fenced (its frames below run the old code) or named by the file
        }
      }
    }
    List<String> memberList = List.copyOf(members);
    if (fences.size() >= section.maxFences()) {
      once(
          "max:" + new java.util.TreeSet<>(memberList), // a cycle seen from another rotation too
          "max-fences ("
              + section.maxFences()
              + ") reached, the cycle "
              + String.join(" -> ", folded)
              + " is not fenced");
      return;
    }
    String entry = entry(frames, c, members);
    Fence f = new Fence(uniqueName(entry, rs), memberList, entry, folded);
    synchronized (this) {
      fences.add(f);
    }
    Set<String> classes = new LinkedHashSet<>();
    for (String m : memberList) {
      classes.add(className(m));
    }
    engine.notifiedNow("auto-fence", f.name()); // the alert below is the rule's first
    installer.accept(classes);
    counts.computeIfAbsent(f.name(), k -> new LongAdder()).increment();
    announce(f, section, rs, s, c, frames);
  }

  /**
   * The method the cycle entered by: the outermost frame of the repetition that is one of its
   * members (for an overflow's cut-off trace, the outermost one the trace still holds).
   */
  static String entry(StackTraceElement[] frames, CycleFinder.Cycle c, Set<String> members) {
    for (int i = c.start() + c.span() - 1; i >= c.start(); i--) {
      String m = frames[i].getClassName() + "#" + frames[i].getMethodName();
      if (members.contains(m)) {
        return m;
      }
    }
    return members.iterator().next();
  }

  /** {@code auto-} + simple class name + {@code -} + method, lowercased; unique in the rules. */
  static String uniqueName(String entry, RuleSet rs) {
    String simple = className(entry);
    simple = simple.substring(simple.lastIndexOf('.') + 1);
    String base = "auto-" + slug(simple) + "-" + slug(methodName(entry));
    Set<String> taken = new java.util.HashSet<>();
    for (Target t : rs.targets()) {
      taken.add(t.name());
    }
    String name = base;
    for (int i = 2; taken.contains(name); i++) {
      name = base + "-" + i;
    }
    return name;
  }

  private static String slug(String s) {
    String out = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    out = out.replaceAll("^-+|-+$", "");
    return out.isEmpty() ? "x" : out;
  }

  private void announce(
      Fence f,
      RuleSet.AutoFence section,
      RuleSet rs,
      Sighting s,
      CycleFinder.Cycle c,
      StackTraceElement[] frames) {
    Mode mode =
        section.mode() == Mode.OBSERVE || rs.mode() == Mode.OBSERVE ? Mode.OBSERVE : Mode.ENFORCE;
    int seen = 0;
    for (int i = c.start(); i < c.start() + c.span(); i++) {
      if (f.members().contains(frames[i].getClassName() + "#" + frames[i].getMethodName())) {
        seen++;
      }
    }
    String snippet = Snippet.block(f, section);
    AgentErrors.log(
        "auto-fence: "
            + (s.overflow() != null ? "a stack overflow" : "a runaway")
            + " in "
            + String.join(" -> ", f.cycle())
            + " (thread "
            + s.thread()
            + "), fenced as target "
            + f.name()
            + " (depth "
            + section.depth()
            + ", "
            + section.action().label()
            + ", fallback "
            + section.fallback()
            + ", "
            + mode.label()
            + "); to name it in the rules file: "
            + Snippet.flow(f, section));
    String label = label(f.entry());
    FlightEvents.autoFence(
        f.name(), String.join(",", f.members()).replace('#', '.'), String.join(" -> ", f.cycle()));
    if (alerts.hasSinks()) {
      StackTraceElement[] shown = Arrays.copyOfRange(frames, c.start(), frames.length);
      alerts.offer(
          new AlertEvent(
              System.currentTimeMillis(),
              "auto-fence",
              f.name(),
              label,
              section.action().label(),
              mode.label(),
              seen,
              section.depth(),
              s.thread(),
              rs.alerts().labels(),
              rs.sha256(),
              shown,
              null,
              false,
              snippet));
    }
  }

  /** {@code name(ParamType,...)} of the entry method as instrumented, or {@code name(…)}. */
  private String label(String entry) {
    for (MethodInfo m : engine.methods().all()) {
      if (m.className().equals(className(entry)) && m.name().equals(methodName(entry))) {
        return m.label();
      }
    }
    return methodName(entry) + "(…)";
  }

  private void once(String key, String message) {
    if (saidOnce.size() < 1000 && saidOnce.add(key)) {
      AgentErrors.log("auto-fence: " + message);
    }
  }

  static String className(String member) {
    return member.substring(0, member.indexOf('#'));
  }

  static String methodName(String member) {
    return member.substring(member.indexOf('#') + 1);
  }

  /** The rules that would name a fence permanently, in the file's own syntax. */
  static final class Snippet {
    private Snippet() {}

    /** One target per method, in one group when there are several: a glob names one class. */
    private static List<Map<String, String>> targets(Fence f) {
      List<Map<String, String>> out = new ArrayList<>();
      int i = 1;
      for (String m : f.members()) {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("name", i == 1 ? f.name() : f.name() + "-" + i);
        t.put("class", className(m));
        t.put("method", methodName(m));
        if (f.members().size() > 1) {
          t.put("group", f.name());
        }
        out.add(t);
        i++;
      }
      return out;
    }

    static String block(Fence f, RuleSet.AutoFence s) {
      StringBuilder b = new StringBuilder("targets:\n");
      for (Map<String, String> t : targets(f)) {
        String prefix = "  - ";
        for (Map.Entry<String, String> e : t.entrySet()) {
          b.append(prefix).append(e.getKey()).append(": ").append(e.getValue()).append('\n');
          prefix = "    ";
        }
        b.append("    fallback: ").append(quoted(s.fallback().toString())).append('\n');
        b.append("    rules:\n");
        b.append("      - name: ").append(t.get("name")).append("-depth\n");
        b.append("        depth: ").append(s.depth()).append('\n');
        b.append("        action: ").append(s.action().label()).append('\n');
        if (s.mode() != null) {
          b.append("        mode: ").append(s.mode().label()).append('\n');
        }
      }
      return b.toString();
    }

    static String flow(Fence f, RuleSet.AutoFence s) {
      List<String> items = new ArrayList<>();
      for (Map<String, String> t : targets(f)) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, String> e : t.entrySet()) {
          b.append(e.getKey()).append(": ").append(e.getValue()).append(", ");
        }
        b.append("fallback: ").append(quoted(s.fallback().toString()));
        b.append(", rules: [{name: ")
            .append(t.get("name"))
            .append("-depth, depth: ")
            .append(s.depth())
            .append(", action: ")
            .append(s.action().label());
        if (s.mode() != null) {
          b.append(", mode: ").append(s.mode().label());
        }
        items.add(b.append("}]}").toString());
      }
      return "targets: [" + String.join(", ", items) + "]";
    }

    /** A fallback as a YAML scalar: quoted when it holds text of the user's. */
    private static String quoted(String fallback) {
      if (fallback.matches("[a-z0-9:-]+")) {
        return fallback;
      }
      return '"' + fallback.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
  }
}
