package dev.firebreak.agent;

import dev.firebreak.instrument.ClassGate;
import java.util.Arrays;

/**
 * What the agent's start cost, published as system properties {@code firebreak.timing.*} (read them
 * with {@code jcmd PID VM.system_properties}). Times are {@link System#nanoTime()} values, 0 when
 * the moment has not come (yet); a snapshot is immutable, so the evaluator publishes only when one
 * differs from the last.
 *
 * @param entered premain (or agentmain) entered
 * @param returned premain returned
 * @param yielded the start stopped yielding to the application
 * @param parsed the start thread had parsed the rules file
 * @param ready the rules in force
 * @param instrumented the advice transformer ready
 * @param weaverNanos building the advice transformer (loading Byte Buddy)
 * @param catchUpNanos retransforming what loaded before it was ready
 * @param catchUpClasses how many classes that was
 * @param matchedClasses classes the gate looked at
 * @param matchNanos the time it took
 * @param transformedClasses classes handed to the advice transformer
 * @param transformNanos the time spent there
 * @param waitedClasses classes that waited at the gate
 * @param waitNanos how long in all
 * @param pendingClasses classes that loaded with the pending entry (their calls wait instead)
 * @param pendingWaits calls that waited in a pending entry
 */
record StartupTimings(
    long entered,
    long returned,
    long yielded,
    long parsed,
    long ready,
    long instrumented,
    long weaverNanos,
    long catchUpNanos,
    long catchUpClasses,
    long matchedClasses,
    long matchNanos,
    long transformedClasses,
    long transformNanos,
    long waitedClasses,
    long waitNanos,
    long pendingClasses,
    long pendingWaits) {

  static StartupTimings of(
      long ready,
      long instrumented,
      long weaverNanos,
      long catchUpNanos,
      long catchUpClasses,
      ClassGate gate) {
    return new StartupTimings(
        FirebreakAgent.enteredAt,
        FirebreakAgent.returnedAt,
        FirebreakAgent.yieldedUntil,
        FirebreakAgent.parsedAt,
        ready,
        instrumented,
        weaverNanos,
        catchUpNanos,
        catchUpClasses,
        gate == null ? 0 : gate.matchedClasses(),
        gate == null ? 0 : gate.matchNanos(),
        gate == null ? 0 : gate.transformedClasses(),
        gate == null ? 0 : gate.transformNanos(),
        gate == null ? 0 : gate.waitedClasses(),
        gate == null ? 0 : gate.waitNanos(),
        gate == null ? 0 : gate.pended().size(),
        dev.firebreak.bootstrap.Probe.pendingWaits());
  }

  /**
   * premain itself ({@code premain.ms}), premain to the end of the yield ({@code yield.ms}) and of
   * the start thread's parse ({@code parse.ms}), premain to rules in force ({@code ready.ms}) and
   * to the instrumentation ready ({@code instrumented.ms}; absent while no rule names a class), the
   * weaver's own start, the class gate, the transforms and the waits, with class counts.
   */
  void publish() {
    if (entered == 0) {
      return;
    }
    if (returned != 0) {
      set("premain.ms", millis(returned - entered));
    }
    if (yielded != 0) {
      set("yield.ms", millis(yielded - entered));
    }
    if (parsed != 0) {
      set("parse.ms", millis(parsed - entered));
    }
    if (ready != 0) {
      set("ready.ms", millis(ready - entered));
    }
    if (instrumented != 0) {
      set("instrumented.ms", millis(instrumented - entered));
      set("weaver.ms", millis(weaverNanos));
    }
    set("match.classes", Long.toString(matchedClasses));
    set("match.ms", millis(matchNanos));
    set("transform.classes", Long.toString(transformedClasses));
    set("transform.ms", millis(transformNanos));
    set("wait.classes", Long.toString(waitedClasses));
    set("wait.ms", millis(waitNanos));
    set("pending.classes", Long.toString(pendingClasses));
    set("pending.waits", Long.toString(pendingWaits));
    set("catchup.classes", Long.toString(catchUpClasses));
    set("catchup.ms", millis(catchUpNanos));
  }

  private static void set(String key, String value) {
    System.setProperty("firebreak.timing." + key, value);
  }

  /**
   * Milliseconds with three decimals, as {@code %.3f} would give them, without {@link
   * String#format}: its first call loads the JDK's locale providers (tens of classes and method
   * handles) on the evaluator thread during the application's start.
   */
  static String millis(long nanos) {
    long micros = Math.round(nanos / 1e3);
    long abs = Math.abs(micros);
    long fraction = abs % 1000;
    return (micros < 0 ? "-" : "")
        + abs / 1000
        + (fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".")
        + fraction;
  }

  /**
   * Written out: a record's generated {@code equals} bootstraps a method handle per component (17
   * here, about 40 generated classes) the first time the evaluator compares two timings, during the
   * application's start.
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof StartupTimings t && Arrays.equals(values(), t.values());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values());
  }

  private long[] values() {
    return new long[] {
      entered,
      returned,
      yielded,
      parsed,
      ready,
      instrumented,
      weaverNanos,
      catchUpNanos,
      catchUpClasses,
      matchedClasses,
      matchNanos,
      transformedClasses,
      transformNanos,
      waitedClasses,
      waitNanos,
      pendingClasses,
      pendingWaits
    };
  }
}
