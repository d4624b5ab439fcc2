package dev.firebreak.runtime;

import dev.firebreak.alert.AlertEvent;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * SPEC section 4 {@code argument}: what an alert says about the offending call's first argument.
 *
 * <p>This runs on the application's thread, at the moment a rule fires, with an argument that may
 * be anything: a lazy ORM collection whose {@code size()} runs a query, a {@code CharSequence}
 * whose {@code toString()} renders a document. So no method of an application object is ever
 * called. Only {@link String} (final, the JDK's own), {@code byte[]} and the length of other arrays
 * are looked at; any other object is described by its class name alone. The sha256 covers at most
 * the first {@value #MAX_HASHED_BYTES} bytes (UTF-8 for a String), so a huge payload costs no more
 * than a small one.
 */
public final class Arguments {
  /** The digest reads at most this many bytes of the argument. */
  public static final int MAX_HASHED_BYTES = 64 * 1024;

  /** {@code capture-argument: true} keeps at most this many characters. */
  public static final int MAX_CAPTURED_CHARS = 200;

  private Arguments() {}

  /** Describes {@code arg}, argument 0 of {@code info}; null when the method takes no arguments. */
  public static AlertEvent.ArgumentInfo describe(Object arg, MethodInfo info, boolean capture) {
    if (info.parameterTypes().isEmpty()) {
      return null;
    }
    if (arg == null) {
      return new AlertEvent.ArgumentInfo(
          0, simpleName(info.parameterTypes().get(0)), -1, null, null);
    }
    // getClass() is final in Object and getSimpleName() is the JDK's: no application code runs
    Class<?> type = arg.getClass();
    String typeName = type.getSimpleName();
    if (type == String.class) {
      String s = (String) arg;
      String value = capture ? s.substring(0, Math.min(s.length(), MAX_CAPTURED_CHARS)) : null;
      return new AlertEvent.ArgumentInfo(0, typeName, s.length(), sha256(s), value);
    }
    if (type == byte[].class) {
      byte[] b = (byte[]) arg;
      return new AlertEvent.ArgumentInfo(
          0, typeName, b.length, sha256(b, Math.min(b.length, MAX_HASHED_BYTES)), null);
    }
    if (type.isArray()) {
      return new AlertEvent.ArgumentInfo(0, typeName, Array.getLength(arg), null, null);
    }
    return new AlertEvent.ArgumentInfo(0, typeName, -1, null, null);
  }

  /** sha256 of the UTF-8 encoding of as many whole characters of {@code s} as fit in the bound. */
  private static String sha256(String s) {
    ByteBuffer out =
        ByteBuffer.allocate((int) Math.min(MAX_HASHED_BYTES, Math.max(16L, s.length() * 3L)));
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    // stops when the buffer is full: the characters beyond the bound are never read
    encoder.encode(CharBuffer.wrap(s), out, true);
    return sha256(out.array(), out.position());
  }

  private static String sha256(byte[] bytes, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(bytes, 0, length);
      return HexFormat.of().formatHex(md.digest());
    } catch (Exception e) {
      return null;
    }
  }

  /** {@code java.lang.String} → {@code String}. */
  static String simpleName(String type) {
    int dot = type.lastIndexOf('.');
    return dot < 0 ? type : type.substring(dot + 1);
  }
}
