package dev.firebreak.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-call tables of {@code benchmarks/README.md}, made from JMH's JSON results (the {@code -rf
 * json} files of one thread count and mode each):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.JmhTable \
 *     avgt-t1.json avgt-t2.json [sample-t1.json sample-t2.json]
 * </pre>
 *
 * <p>Each argument may list several files separated by commas: rounds of the same run ({@code
 * run-rounds.sh}), one fork per benchmark each. A benchmark's score is then the median of its
 * rounds and the "±" column gives their range, because on a shared VM whole forks run fast or slow
 * together and a mean of neighbouring forks hides that.
 *
 * <p>Each row is compared with the baselines of its own fork kind: {@code InstrumentedBenchmark}
 * rows with {@code InstrumentedBenchmark.bare} and {@code .twoNanoTime} (the agent attached), every
 * other row with {@code NoAgentBenchmark}'s. "Above the floor" is benchmark − twoNanoTime; "added
 * cost / floor" is (benchmark − bare) / (twoNanoTime − bare).
 */
public final class JmhTable {
  private JmhTable() {}

  /** One benchmark's result in one file. */
  record Row(
      String benchmark,
      double score,
      double error,
      double bytesPerOp,
      Map<String, Object> percentiles,
      double min,
      double max,
      int rounds) {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2 && args.length != 4) {
      System.err.println(
          "usage: JmhTable avgt-t1.json avgt-t2.json [sample-t1.json sample-t2.json]");
      System.exit(2);
    }
    Map<String, Row> a1 = rounds(args[0]);
    Map<String, Row> a2 = rounds(args[1]);
    System.out.print(averageTime(a1, a2));
    if (args.length == 4) {
      System.out.println();
      System.out.print(sampleTime(rounds(args[2]), rounds(args[3])));
    }
  }

  /** One file as it is; several (comma-separated) as the median of each benchmark over them. */
  static Map<String, Row> rounds(String files) throws IOException {
    String[] names = files.split(",");
    if (names.length == 1) {
      return read(Path.of(names[0]));
    }
    Map<String, List<Row>> all = new LinkedHashMap<>();
    for (String f : names) {
      for (Row r : read(Path.of(f)).values()) {
        all.computeIfAbsent(r.benchmark(), k -> new ArrayList<>()).add(r);
      }
    }
    Map<String, Row> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<Row>> e : all.entrySet()) {
      List<Row> rs = e.getValue();
      double[] scores = rs.stream().mapToDouble(Row::score).sorted().toArray();
      double[] bytes = rs.stream().mapToDouble(Row::bytesPerOp).sorted().toArray();
      Map<String, Object> percentiles = new LinkedHashMap<>();
      for (String p : List.of("50.0", "99.0", "99.9")) {
        double[] v = rs.stream().mapToDouble(r -> percentile(r, p)).sorted().toArray();
        percentiles.put(p, median(v));
      }
      out.put(
          e.getKey(),
          new Row(
              e.getKey(),
              median(scores),
              Double.NaN,
              median(bytes),
              percentiles,
              scores[0],
              scores[scores.length - 1],
              scores.length));
    }
    return out;
  }

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Row> read(Path file) throws IOException {
    Map<String, Row> rows = new LinkedHashMap<>();
    for (Object o : (List<Object>) Json.parse(Files.readString(file, StandardCharsets.UTF_8))) {
      Map<String, Object> b = (Map<String, Object>) o;
      String name = ((String) b.get("benchmark")).replace("dev.firebreak.benchmarks.", "");
      Map<String, Object> primary = (Map<String, Object>) b.get("primaryMetric");
      Map<String, Object> secondary =
          (Map<String, Object>) b.getOrDefault("secondaryMetrics", Map.of());
      // JMH 1.37 names it "gc.alloc.rate.norm", earlier versions "·gc.alloc.rate.norm"
      Map<String, Object> norm =
          (Map<String, Object>)
              secondary.getOrDefault("gc.alloc.rate.norm", secondary.get("·gc.alloc.rate.norm"));
      double error = primary.get("scoreError") instanceof Number n ? n.doubleValue() : Double.NaN;
      rows.put(
          name,
          new Row(
              name,
              Json.number(primary, "score"),
              error,
              norm == null ? Double.NaN : Json.number(norm, "score"),
              (Map<String, Object>) primary.getOrDefault("scorePercentiles", Map.of()),
              Json.number(primary, "score"),
              Json.number(primary, "score"),
              1));
    }
    return rows;
  }

  /** The baseline row of {@code kind} ("bare" or "twoNanoTime") for a benchmark's fork kind. */
  static Row baseline(Map<String, Row> rows, String benchmark, String kind) {
    String cls =
        benchmark.startsWith("InstrumentedBenchmark.")
            ? "InstrumentedBenchmark."
            : "NoAgentBenchmark.";
    return rows.get(cls + kind);
  }

  static String averageTime(Map<String, Row> t1, Map<String, Row> t2) {
    return table(
        "| benchmark | ns/op, 1 thread | ns/op, 2 threads | B/op 1 t / 2 t | above the floor, ns (1 t / 2 t) "
            + "| added cost / floor (1 t / 2 t) | 2-thread / 1-thread per call |",
        6,
        t1,
        t2,
        (a, b) ->
            score(a)
                + " | "
                + score(b)
                + " | "
                + bytes(a)
                + " / "
                + bytes(b)
                + " | "
                + signed(above(t1, a))
                + " / "
                + signed(above(t2, b))
                + " | "
                + f(added(t1, a), 2)
                + "x / "
                + f(added(t2, b), 2)
                + "x | "
                + (a == null || b == null ? "" : f(b.score() / a.score(), 2) + "x"));
  }

  static String sampleTime(Map<String, Row> t1, Map<String, Row> t2) {
    return table(
        "| benchmark | p50 ns 1 t | p99 ns 1 t | p99.9 ns 1 t | p50 ns 2 t | p99 ns 2 t | p99.9 ns 2 t "
            + "| p99 / floor's p99 (1 t / 2 t) |",
        7,
        t1,
        t2,
        (a, b) ->
            pct(a, "50.0")
                + " | "
                + pct(a, "99.0")
                + " | "
                + pct(a, "99.9")
                + " | "
                + pct(b, "50.0")
                + " | "
                + pct(b, "99.0")
                + " | "
                + pct(b, "99.9")
                + " | "
                + f(p99Ratio(t1, a), 2)
                + "x / "
                + f(p99Ratio(t2, b), 2)
                + "x");
  }

  /**
   * A markdown table: the header, a right-aligned column for each of {@code columns} after the
   * benchmark's name, and a row per benchmark of either file, its cells from the 1-thread and the
   * 2-thread result (either may be null).
   */
  private static String table(
      String header,
      int columns,
      Map<String, Row> t1,
      Map<String, Row> t2,
      java.util.function.BiFunction<Row, Row, String> cells) {
    StringBuilder s =
        new StringBuilder(header)
            .append("\n| ---")
            .append(" | ---:".repeat(columns))
            .append(" |\n");
    for (String name : names(t1, t2)) {
      s.append("| `")
          .append(name)
          .append("` | ")
          .append(cells.apply(t1.get(name), t2.get(name)))
          .append(" |\n");
    }
    return s.toString();
  }

  /** "score ± error" of one run, or "median (min–max)" of rounds. */
  private static String score(Row r) {
    if (r == null) {
      return "";
    }
    if (r.rounds() > 1) {
      return f(r.score(), 2) + " (" + f(r.min(), 1) + "–" + f(r.max(), 1) + ")";
    }
    return f(r.score(), 2) + " ± " + f(r.error(), 2);
  }

  private static List<String> names(Map<String, Row> t1, Map<String, Row> t2) {
    List<String> names = new ArrayList<>(t1.keySet());
    for (String n : t2.keySet()) {
      if (!names.contains(n)) {
        names.add(n);
      }
    }
    return names;
  }

  private static double above(Map<String, Row> rows, Row r) {
    Row floor = r == null ? null : baseline(rows, r.benchmark(), "twoNanoTime");
    return floor == null ? Double.NaN : r.score() - floor.score();
  }

  private static double added(Map<String, Row> rows, Row r) {
    if (r == null) {
      return Double.NaN;
    }
    Row bare = baseline(rows, r.benchmark(), "bare");
    Row floor = baseline(rows, r.benchmark(), "twoNanoTime");
    if (bare == null || floor == null) {
      return Double.NaN;
    }
    return (r.score() - bare.score()) / (floor.score() - bare.score());
  }

  private static double p99Ratio(Map<String, Row> rows, Row r) {
    Row floor = r == null ? null : baseline(rows, r.benchmark(), "twoNanoTime");
    if (floor == null) {
      return Double.NaN;
    }
    return percentile(r, "99.0") / percentile(floor, "99.0");
  }

  private static double percentile(Row r, String p) {
    Object v = r.percentiles().get(p);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static String pct(Row r, String p) {
    return r == null ? "" : f(percentile(r, p), 0);
  }

  private static String bytes(Row r) {
    if (r == null || Double.isNaN(r.bytesPerOp())) {
      return "n/a";
    }
    return r.bytesPerOp() < 0.1 ? "≈0" : f(r.bytesPerOp(), 3);
  }

  private static String signed(double v) {
    return Double.isNaN(v) ? "n/a" : (v >= 0 ? "+" : "") + f(v, 1);
  }

  private static String f(double v, int decimals) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
