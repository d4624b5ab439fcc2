package com.acme.chat.pipeline;

import com.acme.chat.model.Message;
import com.acme.chat.util.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * Messages given up on: a count, and the entries themselves, numbered in order (the newest {@value
 * #RETAINED} are kept, so that a client can page through every one of them with {@link #after}).
 */
public class DeadLetters {
  public static final int RECENT = 50;
  public static final int RETAINED = 10_000;

  public record Entry(
      long seq, String id, String room, String author, int attempts, String error, long atMicros) {}

  private final Deque<Entry> log = new ArrayDeque<>();
  private long count;

  public void add(Message m, int attempts, Throwable cause) {
    String error =
        cause.getClass().getName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    synchronized (log) {
      count++;
      log.addLast(
          new Entry(count, m.id(), m.room(), m.author(), attempts, error, Clock.nowMicros()));
      while (log.size() > RETAINED) log.removeFirst();
    }
  }

  public long count() {
    synchronized (log) {
      return count;
    }
  }

  /** The newest {@value #RECENT}, newest first. */
  public List<Entry> recent() {
    List<Entry> out = new ArrayList<>(RECENT);
    synchronized (log) {
      Iterator<Entry> it = log.descendingIterator();
      while (it.hasNext() && out.size() < RECENT) out.add(it.next());
    }
    return out;
  }

  /**
   * At most {@code limit} entries numbered above {@code afterSeq}, oldest first (older ones than
   * those kept are gone).
   */
  public List<Entry> after(long afterSeq, int limit) {
    List<Entry> out = new ArrayList<>();
    synchronized (log) {
      for (Entry e : log) {
        if (out.size() >= limit) break;
        if (e.seq() > afterSeq) out.add(e);
      }
    }
    return out;
  }
}
