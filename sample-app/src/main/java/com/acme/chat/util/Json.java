package com.acme.chat.util;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the chat API: a strict recursive-descent parser producing {@code
 * Map<String,Object>}, {@code List<Object>}, {@code String}, {@code Double}/{@code Long}, {@code
 * Boolean} and {@code null}, and a writer for the same shapes.
 */
public final class Json {
  private Json() {}

  /** Thrown for malformed input; the message says where. */
  public static final class JsonException extends RuntimeException {
    public JsonException(String message) {
      super(message);
    }
  }

  public static Object parse(String text) {
    Parser p = new Parser(text);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.i != text.length()) throw p.error("end of input");
    return v;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) throw new JsonException("expected a JSON object");
    return (Map<String, Object>) v;
  }

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) {
      this.s = s;
    }

    JsonException error(String expected) {
      return new JsonException("expected " + expected + " at offset " + i);
    }

    void ws() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
        else break;
      }
    }

    Object value() {
      if (i >= s.length()) throw error("a value");
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) return number();
          throw error("a value");
      }
    }

    Object literal(String word, Object v) {
      if (!s.startsWith(word, i)) throw error(word);
      i += word.length();
      return v;
    }

    Map<String, Object> object() {
      Map<String, Object> m = new LinkedHashMap<>();
      i++;
      ws();
      if (i < s.length() && s.charAt(i) == '}') {
        i++;
        return m;
      }
      while (true) {
        ws();
        if (i >= s.length() || s.charAt(i) != '"') throw error("a string key");
        String k = string();
        ws();
        if (i >= s.length() || s.charAt(i) != ':') throw error("':'");
        i++;
        ws();
        m.put(k, value());
        ws();
        if (i >= s.length()) throw error("',' or '}'");
        char c = s.charAt(i++);
        if (c == '}') return m;
        if (c != ',') {
          i--;
          throw error("',' or '}'");
        }
      }
    }

    List<Object> array() {
      List<Object> l = new ArrayList<>();
      i++;
      ws();
      if (i < s.length() && s.charAt(i) == ']') {
        i++;
        return l;
      }
      while (true) {
        ws();
        l.add(value());
        ws();
        if (i >= s.length()) throw error("',' or ']'");
        char c = s.charAt(i++);
        if (c == ']') return l;
        if (c != ',') {
          i--;
          throw error("',' or ']'");
        }
      }
    }

    String string() {
      i++; // opening quote
      StringBuilder b = new StringBuilder();
      while (true) {
        if (i >= s.length()) throw error("closing '\"'");
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c == '\\') {
          if (i >= s.length()) throw error("an escape");
          char e = s.charAt(i++);
          switch (e) {
            case '"':
              b.append('"');
              break;
            case '\\':
              b.append('\\');
              break;
            case '/':
              b.append('/');
              break;
            case 'b':
              b.append('\b');
              break;
            case 'f':
              b.append('\f');
              break;
            case 'n':
              b.append('\n');
              break;
            case 'r':
              b.append('\r');
              break;
            case 't':
              b.append('\t');
              break;
            case 'u':
              if (i + 4 > s.length()) throw error("4 hex digits");
              try {
                b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
              } catch (NumberFormatException ex) {
                throw error("4 hex digits");
              }
              i += 4;
              break;
            default:
              i--;
              throw error("a valid escape");
          }
        } else if (c < 0x20) {
          i--;
          throw error("no control character in a string");
        } else {
          b.append(c);
        }
      }
    }

    Object number() {
      int start = i;
      if (s.charAt(i) == '-') i++;
      boolean fractional = false;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c >= '0' && c <= '9') i++;
        else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
          fractional = true;
          i++;
        } else break;
      }
      String n = s.substring(start, i);
      try {
        return fractional ? (Object) Double.parseDouble(n) : (Object) Long.parseLong(n);
      } catch (NumberFormatException ex) {
        i = start;
        throw error("a number");
      }
    }
  }

  // ---------------------------------------------------------------- writing

  public static String write(Object v) {
    StringBuilder b = new StringBuilder();
    write(b, v);
    return b.toString();
  }

  @SuppressWarnings("unchecked")
  public static void write(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String) {
      quote(b, (String) v);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) b.append("null");
      else if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d).append(".0");
      else b.append(d);
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof RawJson) {
      b.append(((RawJson) v).json());
    } else if (v instanceof Map) {
      b.append('{');
      Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) v).entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        quote(b, String.valueOf(e.getKey()));
        b.append(':');
        write(b, e.getValue());
        if (it.hasNext()) b.append(',');
      }
      b.append('}');
    } else if (v instanceof Iterable) {
      b.append('[');
      Iterator<Object> it = ((Iterable<Object>) v).iterator();
      while (it.hasNext()) {
        write(b, it.next());
        if (it.hasNext()) b.append(',');
      }
      b.append(']');
    } else {
      quote(b, v.toString());
    }
  }

  public static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        default:
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    b.append('"');
  }

  /** A value that is already JSON text and is written as is. */
  public record RawJson(String json) {}

  /** A small ordered map builder: {@code Json.obj("a", 1, "b", "x")}. */
  public static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int k = 0; k + 1 < kv.length; k += 2) m.put((String) kv[k], kv[k + 1]);
    return m;
  }
}
