package com.acme.chat.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * Writes a phase's latencies ({@code load --histogram-log FILE}) in HdrHistogram's log format, so
 * HdrHistogram's {@code HistogramLogReader} and {@code HistogramLogProcessor} can read them: a
 * header, then one interval histogram spanning the phase's stretch of the schedule.
 */
public final class LatencyLog {
  /** What the histogram holds (the log's first comment line). */
  public static final String WHAT = "latency from scheduled send to readable, microseconds";

  private LatencyLog() {}

  /**
   * Writes {@code latencies} (time-stamped as by {@link LoadGenerator.PhaseStats#latencies()}) as
   * one interval histogram tagged {@code tag}. {@code baseTimeMs} (milliseconds since the epoch,
   * the run's start) is the log's start and base time: the interval's time stamps are seconds after
   * it. The interval's max column is in milliseconds.
   */
  public static void write(Path file, Histogram latencies, String tag, long baseTimeMs)
      throws IOException {
    Histogram h = latencies.copy();
    h.setTag(tag);
    try (PrintStream out =
        new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
      HistogramLogWriter log = new HistogramLogWriter(out);
      log.outputComment("Firebreak sample app, load generator: " + WHAT);
      log.outputComment(
          "phase '"
              + tag
              + "': "
              + h.getTotalCount()
              + " delivered messages; time stamps are seconds "
              + "after the base time (the run's first scheduled send); Interval_Max is in milliseconds");
      log.outputLogFormatVersion();
      log.outputStartTime(baseTimeMs);
      log.outputBaseTime(baseTimeMs);
      log.setBaseTime(baseTimeMs);
      log.outputLegend();
      log.outputIntervalHistogram(
          (latencies.getStartTimeStamp() - baseTimeMs) / 1000.0,
          (latencies.getEndTimeStamp() - baseTimeMs) / 1000.0,
          h,
          1000.0);
      out.flush();
      if (out.checkError()) throw new IOException("could not write " + file);
    }
  }
}
