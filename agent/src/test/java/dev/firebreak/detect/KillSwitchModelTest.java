package dev.firebreak.detect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.detect.KillSwitch.State;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of admit / trip / poll / trial success / reload / forced moves, run against the
 * switch and against a small reference model of SPEC's state machine ("every call of the target is
 * short-circuited for open-for; then half-open-calls calls are let through, and the switch closes
 * if none of them trips a rule, or opens again"), with the two rules the issue added: a half-open
 * switch waits for traffic (a trial's deadline runs from when it is first seen in flight), and a
 * trial counts only for the round that admitted it.
 */
class KillSwitchModelTest {
  private static final long MS = 1_000_000L;

  enum Kind {
    ADMIT,
    ADMIT_NESTED,
    TRIP,
    ADVANCE_AND_POLL,
    SUCCEED,
    RELOAD,
    FORCE_OPEN,
    FORCE_CLOSE
  }

  record Op(Kind kind, int arg) {}

  /** The reference: plain fields, one thread, SPEC's words. */
  static final class Model {
    State state = State.CLOSED;
    long openFor;
    int calls;
    long openedAt;
    int round; // the half-open round number, for tickets
    int permits;
    int successes;
    int roundCalls;
    long inFlightSince = Long.MIN_VALUE;

    Model(long openFor, int calls) {
      this.openFor = openFor;
      this.calls = calls;
    }

    /** 0 admit, -1 reject, else the round + 1 of a trial. */
    long admit(boolean nested) {
      switch (state) {
        case CLOSED:
          return 0;
        case OPEN:
          return -1;
        default:
          if (nested) {
            return 0;
          }
          if (permits == 0) {
            return -1;
          }
          permits--;
          return round + 1;
      }
    }

    void trip(long now) {
      state = State.OPEN;
      openedAt = now;
      inFlightSince = Long.MIN_VALUE;
    }

    void poll(long now) {
      if (state == State.OPEN && now - openedAt >= openFor) {
        state = State.HALF_OPEN;
        round++;
        roundCalls = calls;
        permits = calls;
        successes = 0;
        inFlightSince = Long.MIN_VALUE;
      } else if (state == State.HALF_OPEN && roundCalls - permits - successes <= 0) {
        inFlightSince = Long.MIN_VALUE; // nothing in flight: no deadline runs
      } else if (state == State.HALF_OPEN) {
        if (inFlightSince == Long.MIN_VALUE) {
          inFlightSince = now;
        } else if (now - inFlightSince >= openFor) {
          trip(now);
        }
      }
    }

    void succeed(long ticket) {
      if (state == State.HALF_OPEN && ticket == round + 1 && ++successes >= roundCalls) {
        state = State.CLOSED;
      }
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op =
        Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 2_000))
            .as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(200);
  }

  @Property(tries = 500)
  void theSwitchBehavesAsTheModel(@ForAll("ops") List<Op> ops) {
    KillSwitch ks = new KillSwitch(100 * MS, 3);
    Model model = new Model(100 * MS, 3);
    long now = 0;
    // tickets of trials in flight: the switch's and the model's, side by side
    List<long[]> trials = new ArrayList<>();
    for (Op op : ops) {
      switch (op.kind()) {
        case ADMIT, ADMIT_NESTED -> {
          boolean nested = op.kind() == Kind.ADMIT_NESTED;
          long real = ks.admit(nested);
          long expected = model.admit(nested);
          assertThat(kind(real)).as("admit after %s", ops).isEqualTo(kind(expected));
          if (real > 0) {
            trials.add(new long[] {real, expected});
          }
        }
        case TRIP -> {
          ks.trip(now, "r");
          model.trip(now);
        }
        case ADVANCE_AND_POLL -> {
          now += op.arg() * MS / 10;
          ks.poll(now);
          model.poll(now);
        }
        case SUCCEED -> {
          if (!trials.isEmpty()) {
            long[] t = trials.remove(op.arg() % trials.size());
            ks.trialSucceeded(t[0]);
            model.succeed(t[1]);
          }
        }
        case RELOAD -> {
          long openFor = (1 + op.arg() % 300) * MS;
          int calls = 1 + op.arg() % 4;
          ks.configure(openFor, calls);
          model.openFor = openFor;
          model.calls = calls;
        }
        case FORCE_OPEN -> {
          ks.forceOpen(now);
          model.trip(now);
        }
        case FORCE_CLOSE -> {
          ks.forceClose();
          model.state = State.CLOSED;
        }
      }
      assertThat(ks.state()).as("state after %s", ops).isEqualTo(model.state);
    }
  }

  private static String kind(long admission) {
    return admission == 0 ? "admit" : admission < 0 ? "reject" : "trial";
  }
}
