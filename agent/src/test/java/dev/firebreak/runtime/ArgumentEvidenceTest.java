package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.firebreak.alert.AlertEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * SPEC section 4 {@code argument}: shape without content, unless {@code capture-argument: true}.
 */
class ArgumentEvidenceTest {
  private static final MethodInfo EXPAND =
      new MethodInfo(
          0,
          "a.R",
          "expand",
          "(Ljava/lang/String;I)Ljava/lang/String;",
          "expand(String,int)",
          "java.lang.String",
          List.of("java.lang.String", "int"),
          "t");

  private static String sha(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void describesTypeLengthAndDigestButNotTheContent() throws Exception {
    AlertEvent.ArgumentInfo a = Arguments.describe("hi :tada: ✓", EXPAND, false);
    assertThat(a.index()).isZero();
    assertThat(a.type()).isEqualTo("String");
    assertThat(a.length()).isEqualTo(11);
    assertThat(a.sha256()).isEqualTo(sha("hi :tada: ✓"));
    assertThat(a.value()).isNull();
  }

  @Test
  void capturesAtMost200CharactersWhenTheTargetAsks() {
    String big = "x".repeat(300);
    assertThat(Arguments.describe("short", EXPAND, true).value()).isEqualTo("short");
    assertThat(Arguments.describe(big, EXPAND, true).value()).hasSize(200);
    assertThat(Arguments.describe(big, EXPAND, true).length()).isEqualTo(300);
  }

  @Test
  void arraysHaveALengthOtherObjectsOnlyAType() {
    assertThat(Arguments.describe(new int[7], EXPAND, false).length()).isEqualTo(7);
    assertThat(Arguments.describe(new String[3], EXPAND, true).type()).isEqualTo("String[]");
    assertThat(Arguments.describe(new String[3], EXPAND, true).length()).isEqualTo(3);
    AlertEvent.ArgumentInfo list = Arguments.describe(List.of(1, 2, 3), EXPAND, true);
    assertThat(list.length()).isEqualTo(-1);
    assertThat(list.value()).isNull();
    AlertEvent.ArgumentInfo other = Arguments.describe(new Object(), EXPAND, true);
    assertThat(other.type()).isEqualTo("Object");
    assertThat(other.length()).isEqualTo(-1);
    assertThat(other.sha256()).isNull();
    assertThat(Arguments.describe(null, EXPAND, true).type()).isEqualTo("String");
  }

  /**
   * Issue 16: the description runs on the application's thread when a rule fires; a lazy ORM
   * collection's size() runs a query, a CharSequence's toString() may render a document. None of an
   * application object's methods may be called, even with capture-argument: true.
   */
  @Test
  void neverCallsAMethodOfAnApplicationObject() {
    AtomicInteger calls = new AtomicInteger();
    Object[] hostile = {
      new LazyList(calls), new LazyMap(calls), new Rendered(calls), new Rendered(calls) {}
    };
    for (Object arg : hostile) {
      for (boolean capture : new boolean[] {false, true}) {
        AlertEvent.ArgumentInfo a = Arguments.describe(arg, EXPAND, capture);
        assertThat(a.type()).isEqualTo(arg.getClass().getSimpleName());
        assertThat(a.length()).isEqualTo(-1);
        assertThat(a.sha256()).isNull();
        assertThat(a.value()).isNull();
      }
    }
    assertThat(calls).hasValue(0);
  }

  /** Issue 16: a payload of any size costs no more than 64 KB of hashing. */
  @Test
  void hashesAtMostTheFirst64KilobytesOfAPayload() throws Exception {
    byte[] big = new byte[1 << 20];
    new Random(16).nextBytes(big);
    AlertEvent.ArgumentInfo bytes = Arguments.describe(big, EXPAND, true);
    assertThat(bytes.length()).isEqualTo(1 << 20);
    assertThat(bytes.sha256()).isEqualTo(sha(Arrays.copyOf(big, 64 * 1024)));
    assertThat(bytes.value()).isNull();
    byte[] small = Arrays.copyOf(big, 1000);
    assertThat(Arguments.describe(small, EXPAND, false).sha256()).isEqualTo(sha(small));

    String ascii = "a".repeat(1 << 20);
    assertThat(Arguments.describe(ascii, EXPAND, false).sha256())
        .isEqualTo(sha("a".repeat(64 * 1024)));
    assertThat(Arguments.describe(ascii, EXPAND, false).length()).isEqualTo(1 << 20);
    // multi-byte characters: as many whole characters as fit in 64 KB (21845 x 3 bytes)
    String checks = "\u2713".repeat(30_000);
    assertThat(Arguments.describe(checks, EXPAND, false).sha256())
        .isEqualTo(sha("\u2713".repeat(21_845)));
    String exact = "\u00e9".repeat(40_000);
    assertThat(Arguments.describe(exact, EXPAND, false).sha256())
        .isEqualTo(sha("\u00e9".repeat(32_768)));
  }

  private static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /** A collection whose every method is a database query. */
  static final class LazyList extends AbstractList<String> {
    private final AtomicInteger calls;

    LazyList(AtomicInteger calls) {
      this.calls = calls;
    }

    @Override
    public String get(int index) {
      calls.incrementAndGet();
      throw new IllegalStateException("query");
    }

    @Override
    public int size() {
      calls.incrementAndGet();
      throw new IllegalStateException("query");
    }

    @Override
    public int hashCode() {
      calls.incrementAndGet();
      return 0;
    }

    @Override
    public String toString() {
      calls.incrementAndGet();
      return "";
    }
  }

  static final class LazyMap extends AbstractMap<String, String> {
    private final AtomicInteger calls;

    LazyMap(AtomicInteger calls) {
      this.calls = calls;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
      calls.incrementAndGet();
      throw new IllegalStateException("query");
    }

    @Override
    public int size() {
      calls.incrementAndGet();
      throw new IllegalStateException("query");
    }
  }

  /** A CharSequence that renders a document on every call. */
  static class Rendered implements CharSequence {
    private final AtomicInteger calls;

    Rendered(AtomicInteger calls) {
      this.calls = calls;
    }

    @Override
    public int length() {
      calls.incrementAndGet();
      return 3;
    }

    @Override
    public char charAt(int index) {
      calls.incrementAndGet();
      return 'x';
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      calls.incrementAndGet();
      return "x";
    }

    @Override
    public String toString() {
      calls.incrementAndGet();
      return "xxx";
    }
  }
}
