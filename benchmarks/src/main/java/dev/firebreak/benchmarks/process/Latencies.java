package dev.firebreak.benchmarks.process;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

/**
 * The load generator's latency histograms (microseconds, scheduled send to readable), as its {@code
 * --histogram-log} writes them: read back per round, and pooled per configuration (all rounds'
 * measured messages in one histogram).
 */
final class Latencies {
  private Latencies() {}

  /**
   * Every interval histogram of an HdrHistogram log, added into one (an error if there is none).
   */
  static Histogram read(Path log) throws IOException {
    HistogramLogReader reader = new HistogramLogReader(log.toFile());
    try {
      List<Histogram> intervals = new ArrayList<>();
      EncodableHistogram h;
      while ((h = reader.nextIntervalHistogram()) != null) {
        if (!(h instanceof Histogram))
          throw new IOException(
              log + ": not an integer-valued histogram (" + h.getClass().getSimpleName() + ")");
        intervals.add((Histogram) h);
      }
      if (intervals.isEmpty()) throw new IOException(log + ": no interval histogram in it");
      return pool(intervals);
    } catch (RuntimeException e) {
      throw new IOException(log + ": not a readable histogram log: " + e, e);
    } finally {
      reader.close();
    }
  }

  /**
   * The histograms merged into a new, auto-resizing one with the finest precision among them (the
   * inputs unchanged); empty (3 digits) when there are none.
   */
  static Histogram pool(List<Histogram> histograms) {
    int digits = histograms.isEmpty() ? 3 : 0;
    for (Histogram h : histograms) digits = Math.max(digits, h.getNumberOfSignificantValueDigits());
    Histogram out = new Histogram(digits); // auto-resizing: takes any of them
    for (Histogram h : histograms) out.add(h);
    return out;
  }

  /** The value at {@code percentile} (0–100), in milliseconds; NaN for an empty histogram. */
  static double ms(Histogram h, double percentile) {
    if (h == null || h.getTotalCount() == 0) return Double.NaN;
    return h.getValueAtPercentile(percentile) / 1000.0;
  }

  /** {@code v / base}; NaN when either is missing or the base is not positive. */
  static double ratio(double v, double base) {
    if (Double.isNaN(v) || Double.isNaN(base) || base <= 0) return Double.NaN;
    return v / base;
  }
}
