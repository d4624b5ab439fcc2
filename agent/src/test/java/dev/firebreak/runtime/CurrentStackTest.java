package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** An alert's stack keeps the bottom frames of a deep stack: where the runaway came from. */
class CurrentStackTest {

  private static StackTraceElement[] deep(int n) {
    return n == 0 ? Engine.currentStack() : deep(n - 1);
  }

  @Test
  void keepsFramesBelowTheFirstThousand() {
    StackTraceElement[] stack = deep(1500);
    assertThat(stack.length).isGreaterThan(1500);
    assertThat(stack[0].getMethodName()).isEqualTo("currentStack");
    assertThat(stack).filteredOn(f -> f.getMethodName().equals("deep")).hasSize(1501);
    assertThat(stack)
        .anySatisfy(
            f -> assertThat(f.getMethodName()).isEqualTo("keepsFramesBelowTheFirstThousand"));
  }
}
