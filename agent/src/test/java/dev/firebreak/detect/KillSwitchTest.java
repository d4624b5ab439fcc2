package dev.firebreak.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.detect.KillSwitch.State;
import org.junit.jupiter.api.Test;

/** The state machine, driven by explicit times: no sleeping. */
class KillSwitchTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void closedAdmitsEverything() {
    KillSwitch ks = new KillSwitch(10 * SECOND, 3);
    assertThat(ks.admit(0)).isEqualTo(KillSwitch.ADMIT);
    assertThat(ks.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void tripOpensForOpenForThenHalfOpensWithLimitedTrials() {
    KillSwitch ks = new KillSwitch(10 * SECOND, 2);
    ks.trip(100, "r");
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(ks.openedBy()).isEqualTo("r");
    assertThat(ks.admit(100 + 9 * SECOND)).isEqualTo(KillSwitch.REJECT);
    assertThat(ks.admit(100 + 10 * SECOND)).isEqualTo(KillSwitch.TRIAL);
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    assertThat(ks.admit(100 + 10 * SECOND)).isEqualTo(KillSwitch.TRIAL);
    assertThat(ks.admit(100 + 10 * SECOND)).isEqualTo(KillSwitch.REJECT);
    // recursion inside an admitted trial is part of that trial
    assertThat(ks.admit(100 + 10 * SECOND, true)).isEqualTo(KillSwitch.ADMIT);
  }

  @Test
  void halfOpenClosesAfterEnoughSuccessfulTrials() {
    KillSwitch ks = new KillSwitch(SECOND, 2);
    ks.trip(0, "r");
    ks.admit(SECOND);
    ks.admit(SECOND);
    ks.trialSucceeded();
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    ks.trialSucceeded();
    assertThat(ks.state()).isEqualTo(State.CLOSED);
    assertThat(ks.admit(SECOND)).isEqualTo(KillSwitch.ADMIT);
  }

  @Test
  void aTripDuringHalfOpenReopensForAnotherFullPeriod() {
    KillSwitch ks = new KillSwitch(SECOND, 2);
    ks.trip(0, "r");
    ks.admit(SECOND);
    ks.trip(SECOND, "r2");
    assertThat(ks.state()).isEqualTo(State.OPEN);
    assertThat(ks.admit(2 * SECOND - 1)).isEqualTo(KillSwitch.REJECT);
    ks.trialSucceeded();
    assertThat(ks.state()).isEqualTo(State.OPEN);
  }

  @Test
  void aHalfOpenSwitchWhoseTrialsNeverFinishOpensAgain() {
    KillSwitch ks = new KillSwitch(SECOND, 1);
    ks.trip(0, "r");
    assertThat(ks.admit(SECOND)).isEqualTo(KillSwitch.TRIAL); // this trial hangs
    assertThat(ks.admit(SECOND)).isEqualTo(KillSwitch.REJECT);
    ks.poll(2 * SECOND - 1);
    assertThat(ks.state()).isEqualTo(State.HALF_OPEN);
    ks.poll(2 * SECOND);
    assertThat(ks.state()).isEqualTo(State.OPEN);
    // and after another open-for it offers fresh trials
    assertThat(ks.admit(3 * SECOND)).isEqualTo(KillSwitch.TRIAL);
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
  }

  @Test
  void concurrentTrialsNeverExceedThePermits() throws Exception {
    KillSwitch ks = new KillSwitch(SECOND, 5);
    ks.trip(0, "r");
    java.util.concurrent.atomic.AtomicInteger trials = new java.util.concurrent.atomic.AtomicInteger();
    Thread[] threads = new Thread[8];
    for (int i = 0; i < threads.length; i++) {
      threads[i] =
          new Thread(
              () -> {
                for (int k = 0; k < 1000; k++) {
                  if (ks.admit(2 * SECOND) == KillSwitch.TRIAL) {
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
