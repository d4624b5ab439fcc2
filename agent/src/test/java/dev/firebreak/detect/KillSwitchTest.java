package dev.firebreak.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.detect.KillSwitch.State;
import org.junit.jupiter.api.Test;

/** The state machine, driven by explicit times: no sleeping. */
class KillSwitchTest {
  private static final long SECOND = 1_000_000_000L;

  /** What a caller holding the time would do: the evaluator's poll, then the hot path's check. */
  private static long admit(KillSwitch ks, long now, boolean nested) {
    ks.poll(now);
    return ks.admit(nested);
  }

  @Test
  void closedAdmitsEverything() {
    KillSwitch ks = new KillSwitch(10 * SECOND, 3);
    assertThat(admit(ks, 0, false)).isEqualTo(KillSwitch.ADMIT);
    assertThat(ks.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void tripOpensForOpenForThenHalfOpensWithLimitedTrials() {
    KillSwitch ks = new KillSwitch(10 * SECOND, 2);
    ks.trip(100, "r");
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(ks.openedBy()).isEqualTo("r");
    assertThat(admit(ks, 100 + 9 * SECOND, false)).isEqualTo(KillSwitch.REJECT);
    assertThat(admit(ks, 100 + 10 * SECOND, false)).isPositive(); // a trial
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    assertThat(admit(ks, 100 + 10 * SECOND, false)).isPositive(); // a trial
    assertThat(admit(ks, 100 + 10 * SECOND, false)).isEqualTo(KillSwitch.REJECT);
    // recursion inside an admitted trial is part of that trial
    assertThat(admit(ks, 100 + 10 * SECOND, true)).isEqualTo(KillSwitch.ADMIT);
  }

  @Test
  void halfOpenClosesAfterEnoughSuccessfulTrials() {
    KillSwitch ks = new KillSwitch(SECOND, 2);
    ks.trip(0, "r");
    long a = admit(ks, SECOND, false);
    long b = admit(ks, SECOND, false);
    ks.trialSucceeded(a);
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    ks.trialSucceeded(b);
    assertThat(ks.state()).isEqualTo(State.CLOSED);
    assertThat(admit(ks, SECOND, false)).isEqualTo(KillSwitch.ADMIT);
  }

  @Test
  void aTripDuringHalfOpenReopensForAnotherFullPeriod() {
    KillSwitch ks = new KillSwitch(SECOND, 2);
    ks.trip(0, "r");
    long trial = admit(ks, SECOND, false);
    ks.trip(SECOND, "r2");
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(admit(ks, 2 * SECOND - 1, false)).isEqualTo(KillSwitch.REJECT);
    ks.trialSucceeded(trial);
    assertThat(ks.state()).isEqualTo(State.OPEN);
  }

  @Test
  void aHalfOpenSwitchWhoseTrialsNeverFinishOpensAgain() {
    KillSwitch ks = new KillSwitch(SECOND, 1);
    ks.trip(0, "r");
    assertThat(admit(ks, SECOND, false)).isPositive(); // this trial hangs
    assertThat(ks.admit(false)).isEqualTo(KillSwitch.REJECT);
    assertThat(ks.poll(SECOND + 1)).isEqualTo(KillSwitch.Poll.NOTHING); // the deadline starts
    assertThat(ks.poll(2 * SECOND)).isEqualTo(KillSwitch.Poll.NOTHING);
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    assertThat(ks.poll(2 * SECOND + 1)).isEqualTo(KillSwitch.Poll.TRIAL_TIMED_OUT);
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(ks.openedBy()).isEqualTo("trial-timeout");
    // and after another open-for it offers fresh trials
    assertThat(admit(ks, 3 * SECOND + 1, false)).isPositive();
  }

  /**
   * Issue 13, 3: one call every 1.5 s, open-for 2 s, 3 trials: it must close, not reopen for good.
   */
  @Test
  void aHalfOpenSwitchOnALowTrafficTargetWaitsForItsTrialsAndCloses() {
    KillSwitch ks = new KillSwitch(2 * SECOND, 3);
    ks.trip(0, "r");
    long now = 0;
    for (int call = 0; call < 20 && ks.state() != State.CLOSED; call++) {
      now += 1_500_000_000L;
      // the evaluator polls every open-for / 4 between calls
      for (long t = now - 1_500_000_000L; t < now; t += SECOND / 2) {
        ks.poll(t);
      }
      long ticket = admit(ks, now, false);
      if (ticket > 0) {
        ks.trialSucceeded(ticket); // a healthy call, a millisecond long
      }
    }
    assertThat(ks.state()).isEqualTo(State.CLOSED);
  }

  /** Issue 13, 4: a trial admitted in one half-open round never counts for the next. */
  @Test
  void aTrialOfAnEarlierRoundDoesNotCountForTheNext() {
    KillSwitch ks = new KillSwitch(SECOND, 1);
    ks.trip(0, "r");
    long old = admit(ks, SECOND, false); // round 1's trial, still running
    ks.trip(SECOND, "r"); // another call trips it: open again
    ks.poll(2 * SECOND); // round 2
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    ks.trialSucceeded(old); // round 1's trial ends well: no verdict on round 2
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    long fresh = admit(ks, 2 * SECOND, false);
    ks.trialSucceeded(fresh);
    assertThat(ks.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void aHalfOpenSwitchWithoutTrafficStaysHalfOpen() {
    KillSwitch ks = new KillSwitch(SECOND, 2);
    ks.trip(0, "r");
    for (long t = SECOND; t < 100 * SECOND; t += SECOND / 4) {
      ks.poll(t);
    }
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
  }

  @Test
  void pollHalfOpensWithoutCalls() {
    KillSwitch ks = new KillSwitch(SECOND, 1);
    ks.trip(0, "r");
    ks.poll(SECOND / 2);
    assertThat(ks.state()).isEqualTo(State.OPEN);
    ks.poll(SECOND);
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
  }

  @Test
  void transitionTable() {
    assertThat(KillSwitch.isLegal(State.CLOSED, State.OPEN)).isTrue();
    assertThat(KillSwitch.isLegal(State.CLOSED, State.HALF_OPEN)).isFalse();
    assertThat(KillSwitch.isLegal(State.HALF_OPEN, State.HALF_OPEN)).isFalse();
    assertThat(KillSwitch.isLegal(State.OPEN, State.HALF_OPEN)).isTrue();
    assertThat(KillSwitch.isLegal(State.HALF_OPEN, State.CLOSED)).isTrue();
  }

  @Test
  void manualOpenAndClose() {
    KillSwitch ks = new KillSwitch(SECOND, 1);
    ks.forceOpen(0);
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(ks.openedBy()).isEqualTo("admin");
    ks.forceClose();
    assertThat(ks.state()).isEqualTo(State.CLOSED);
    ks.forceClose(); // closing a closed switch is no move at all
    assertThat(ks.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void concurrentTrialsNeverExceedThePermits() throws Exception {
    KillSwitch ks = new KillSwitch(SECOND, 5);
    ks.trip(0, "r");
    java.util.concurrent.atomic.AtomicInteger trials =
        new java.util.concurrent.atomic.AtomicInteger();
    Thread[] threads = new Thread[8];
    for (int i = 0; i < threads.length; i++) {
      threads[i] =
          new Thread(
              () -> {
                for (int k = 0; k < 1000; k++) {
                  if (admit(ks, 2 * SECOND, false) > 0) {
                    trials.incrementAndGet();
                  }
                }
              });
      threads[i].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(trials.get()).isEqualTo(5);
  }
}
