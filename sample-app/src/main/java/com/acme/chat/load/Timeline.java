package com.acme.chat.load;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Per second of the schedule (by each message's scheduled send time): how many were sent, how many
 * delivered within the deadline, and their latencies. At most {@value #MAX_SECONDS} seconds; later
 * messages are not plotted (the figures of the phases still count them).
 */
public final class Timeline {
  static final int MAX_SECONDS = 3600;

  /** One second: its start (seconds since the epoch), counts and p99 in ms (NaN: none). */
  public record Second(long epochSecond, long sent, long delivered, double p99Ms) {
    public double deliveredPct() {
      return sent == 0 ? Double.NaN : 100.0 * delivered / sent;
    }
  }

  private long firstSecond = -1;
  private final long[] sent = new long[MAX_SECONDS];
  private final long[] delivered = new long[MAX_SECONDS];
  private final Histogram[] latencies = new Histogram[MAX_SECONDS];
  private int length;

  synchronized void sent(long intendedMicros) {
    int i = slot(intendedMicros);
    if (i >= 0) sent[i]++;
  }

  synchronized void delivered(long intendedMicros, long latencyMicros) {
    int i = slot(intendedMicros);
    if (i < 0) return;
    delivered[i]++;
    if (latencies[i] == null) latencies[i] = new Histogram(3_600_000_000L, 2);
    latencies[i].recordValue(Math.min(latencyMicros, 3_600_000_000L));
  }

  private int slot(long micros) {
    long second = Math.floorDiv(micros, 1_000_000L);
    if (firstSecond < 0) firstSecond = second;
    long i = second - firstSecond;
    if (i < 0 || i >= MAX_SECONDS) return -1;
    length = Math.max(length, (int) i + 1);
    return (int) i;
  }

  /** Every second from the first message's to the last one's. */
  public synchronized List<Second> seconds() {
    List<Second> out = new ArrayList<>(length);
    for (int i = 0; i < length; i++) {
      Histogram h = latencies[i];
      double p99 = h == null ? Double.NaN : h.getValueAtPercentile(99) / 1000.0;
      out.add(new Second(firstSecond + i, sent[i], delivered[i], p99));
    }
    return out;
  }
}
