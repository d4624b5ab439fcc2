package dev.firebreak.instrument;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Which methods a broad target leaves out by default (issue 15): no invoke, no loop. */
class LeafMethodsTest {

  @SuppressWarnings("unused") // read as a class file only
  static final class Shapes {
    private int size;

    int getSize() {
      return size;
    }

    void setSize(int size) {
      this.size = size;
    }

    static int arithmetic(int x) {
      return x > 0 ? x * 31 + 7 : -x;
    }

    static int loops(int n) {
      int s = 0;
      for (int i = 0; i < n; i++) {
        s += i;
      }
      return s;
    }

    static int recurses(int n) {
      return n <= 0 ? 0 : recurses(n - 1) + 1;
    }

    String calls() {
      return String.valueOf(size);
    }

    Runnable lambda() {
      return () -> {};
    }
  }

  @Test
  void gettersSettersAndArithmeticAreLeavesLoopsAndCallsAreNot() throws Exception {
    byte[] bytes;
    try (InputStream in =
        Shapes.class.getResourceAsStream(
            "/" + Shapes.class.getName().replace('.', '/') + ".class")) {
      bytes = in.readAllBytes();
    }
    assertThat(LeafMethods.of(bytes))
        .contains("getSize()I", "setSize(I)V", "arithmetic(I)I")
        .doesNotContain(
            "loops(I)I",
            "recurses(I)I",
            "calls()Ljava/lang/String;",
            "lambda()Ljava/lang/Runnable;");
  }

  @Test
  void anUnreadableClassFileLeavesNothingOut() {
    assertThat(LeafMethods.of(new byte[] {1, 2, 3})).isEmpty();
  }
}
