package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.firebreak.alert.AlertDispatcher;
import dev.firebreak.bootstrap.Net;
import dev.firebreak.rules.Action;
import dev.firebreak.rules.Fallback;
import dev.firebreak.rules.Mode;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.Engine;
import dev.firebreak.runtime.NetEvents;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import testapp.inproc.Netted;

/**
 * Layer 2: the auto-fence's net installed in this JVM the way the agent installs it. Its one piece
 * of state, the thread's depth under the net, must come back to where it was after every way out of
 * a call: a return, an exception, a stack overflow (whose unwinding can lose exits), a reload that
 * takes the net away while calls are under it.
 */
class NetDepthTest {
  private final AtomicInteger deep = new AtomicInteger();
  private final AtomicInteger overflows = new AtomicInteger();
  private InProcessAgent agent;
  private Engine engine;

  @BeforeEach
  void setUp() {
    engine = new Engine(new AlertDispatcher());
    engine.net(
        new NetEvents() {
          @Override
          public void deep() {
            deep.incrementAndGet();
          }

          @Override
          public void overflow(Throwable error) {
            overflows.incrementAndGet();
          }
        });
    agent = new InProcessAgent(engine);
    agent.install(net());
    Net.deep = 200;
  }

  @AfterEach
  void tearDown() {
    Net.deep = Integer.MAX_VALUE;
    agent.close();
  }

  private static RuleSet net() {
    RuleSet plain = TestRules.rules(Mode.ENFORCE);
    return new RuleSet(
        plain.version(),
        plain.source(),
        plain.sha256(),
        plain.metrics(),
        plain.alerts(),
        plain.reload(),
        plain.admin(),
        plain.killSwitch(),
        plain.mode(),
        List.of(),
        new RuleSet.AutoFence(
            List.of("testapp.inproc.Netted"),
            100,
            Action.LIMIT,
            new Fallback.Throw(),
            null,
            20,
            TestRules.POS));
  }

  @Test
  void aReturnAndAnExceptionLeaveTheDepthWhereItWas() {
    assertThat(new Netted().down(50)).isEqualTo(50);
    assertThat(Net.cell()[0]).isZero();
    assertThatThrownBy(() -> new Netted().throwAt(0, 120))
        .isInstanceOf(IllegalStateException.class);
    assertThat(Net.cell()[0]).isZero();
    assertThat(deep.get()).as("120 deep crossed the net's depth of 200? no").isZero();
    assertThat(new Netted().down(300)).isEqualTo(300);
    assertThat(deep.get()).as("300 deep crosses 200 once").isEqualTo(1);
    assertThat(Net.cell()[0]).isZero();
  }

  @Test
  void stackOverflowsLeaveNoDepthBehindAndAreReportedOnceEach() {
    for (int i = 0; i < 20; i++) {
      assertThatThrownBy(() -> new Netted().forever(0)).isInstanceOf(StackOverflowError.class);
      assertThat(Net.cell()[0]).as("after overflow %d", i + 1).isZero();
    }
    assertThat(overflows.get()).isEqualTo(20);
    assertThat(deep.get()).as("each runaway crossed the net's depth once").isEqualTo(20);
  }

  @Test
  void aReloadThatTakesTheNetAwayMidCallLeavesNoDepthBehind() {
    int[] seen = new int[1];
    Netted n =
        new Netted() {
          @Override
          public int down(int k) {
            if (k == 0) {
              // deep inside calls under the net: the net goes
              agent.reload(TestRules.rules(Mode.ENFORCE));
              seen[0] = Net.cell()[0];
              return 0;
            }
            return super.down(k);
          }
        };
    // the anonymous subclass is outside the net; Netted.down's own frames are under it
    assertThat(n.down(30)).isEqualTo(30);
    assertThat(seen[0]).isPositive();
    assertThat(Net.cell()[0]).isZero();
  }
}
