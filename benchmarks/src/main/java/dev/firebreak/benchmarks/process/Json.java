package dev.firebreak.benchmarks.process;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The little JSON the comparison needs: reading the flat objects the sample app prints
 * ({@code load --json}, {@code GET /debug/vm}) and writing the result file.
 */
final class Json {
    private Json() {}

    /** Parses one flat JSON object: string keys, values that are numbers, strings, booleans or null. */
    static Map<String, Object> parseFlatObject(String text) {
        Map<String, Object> out = new LinkedHashMap<>();
        String s = text.trim();
        if (!s.startsWith("{") || !s.endsWith("}")) throw new IllegalArgumentException("not a JSON object: " + abbreviate(s));
        int[] pos = {1};
        skipSpace(s, pos);
        if (s.charAt(pos[0]) == '}') return out;
        while (true) {
            skipSpace(s, pos);
            String key = string(s, pos);
            skipSpace(s, pos);
            expect(s, pos, ':');
            skipSpace(s, pos);
            out.put(key, value(s, pos));
            skipSpace(s, pos);
            char c = s.charAt(pos[0]++);
            if (c == '}') return out;
            if (c != ',') throw new IllegalArgumentException("expected ',' or '}' at " + (pos[0] - 1) + " in " + abbreviate(s));
        }
    }

    private static Object value(String s, int[] pos) {
        char c = s.charAt(pos[0]);
        if (c == '"') return string(s, pos);
        if (s.startsWith("true", pos[0])) { pos[0] += 4; return Boolean.TRUE; }
        if (s.startsWith("false", pos[0])) { pos[0] += 5; return Boolean.FALSE; }
        if (s.startsWith("null", pos[0])) { pos[0] += 4; return null; }
        int start = pos[0];
        while (pos[0] < s.length() && "+-.0123456789eE".indexOf(s.charAt(pos[0])) >= 0) pos[0]++;
        String n = s.substring(start, pos[0]);
        if (n.isEmpty()) throw new IllegalArgumentException("expected a flat value at " + start + " in " + abbreviate(s));
        return n.contains(".") || n.contains("e") || n.contains("E") ? (Object) Double.parseDouble(n) : (Object) Long.parseLong(n);
    }

    private static String string(String s, int[] pos) {
        expect(s, pos, '"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = s.charAt(pos[0]++);
            if (c == '"') return b.toString();
            if (c == '\\') {
                char e = s.charAt(pos[0]++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(pos[0], pos[0] + 4), 16)); pos[0] += 4; break;
                    default: b.append(e);
                }
            } else {
                b.append(c);
            }
        }
    }

    private static void expect(String s, int[] pos, char c) {
        if (pos[0] >= s.length() || s.charAt(pos[0]) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at " + pos[0] + " in " + abbreviate(s));
        }
        pos[0]++;
    }

    private static void skipSpace(String s, int[] pos) {
        while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) pos[0]++;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    /** A number of a parsed object as a double (NaN when missing or not a number). */
    static double number(Map<String, Object> m, String key) {
        Object v = m == null ? null : m.get(key);
        return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
    }

    // ---------------------------------------------------------------- writing

    /** Writes maps, iterables, strings, numbers, booleans and null as indented JSON. */
    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, "");
        return b.append('\n').toString();
    }

    private static void write(StringBuilder b, Object v, String indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String) {
            quote(b, (String) v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            b.append(Double.isNaN(d) || Double.isInfinite(d) ? "null" : Double.toString(d));
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Map) {
            Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) v).entrySet().iterator();
            if (!it.hasNext()) { b.append("{}"); return; }
            String inner = indent + "  ";
            b.append("{\n");
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                b.append(inner);
                quote(b, String.valueOf(e.getKey()));
                b.append(": ");
                write(b, e.getValue(), inner);
                b.append(it.hasNext() ? ",\n" : "\n");
            }
            b.append(indent).append('}');
        } else if (v instanceof Iterable) {
            Iterator<?> it = ((Iterable<?>) v).iterator();
            if (!it.hasNext()) { b.append("[]"); return; }
            b.append('[');
            while (it.hasNext()) {
                write(b, it.next(), indent);
                if (it.hasNext()) b.append(", ");
            }
            b.append(']');
        } else {
            quote(b, v.toString());
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        b.append('"');
    }
}
