package com.acme.chat.pipeline;

import com.acme.chat.util.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Last stage: the rooms' message logs (in memory; each room keeps its newest messages, up to
 * {@value #RETAINED} by default: once a room is full, each new message pushes out the oldest, so a
 * full room holds the same number of messages from then on). Every stored message gets the room's
 * next sequence number and the time it became readable.
 */
public class MessageStore {
  public static final int RETAINED = 50_000;

  /** One delivered message: its room sequence number, delivery time and JSON. */
  public record Stored(long seq, long storedAtMicros, String json) {}

  /**
   * A ring of the newest messages: it grows up to the retention, then the oldest is overwritten.
   */
  private static final class Room {
    Stored[] ring;
    int head; // index of the oldest message
    int size;
    long firstSeq = 1;
    long nextSeq = 1;

    Room(int retained) {
      ring = new Stored[Math.min(retained, 16)];
    }

    Stored get(int i) {
      return ring[(head + i) % ring.length];
    }
  }

  private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
  private final AtomicLong stored = new AtomicLong();
  private final int retained;

  public MessageStore() {
    this(RETAINED);
  }

  /** Keeps at most {@code retained} messages a room. */
  public MessageStore(int retained) {
    if (retained < 2) throw new IllegalArgumentException("retained must be >= 2, got " + retained);
    this.retained = retained;
  }

  public Stored append(String room, String json) {
    Room r = rooms.computeIfAbsent(room, k -> new Room(retained));
    Stored s;
    synchronized (r) {
      s = new Stored(r.nextSeq++, Clock.nowMicros(), json);
      if (r.size < r.ring.length) {
        r.ring[(r.head + r.size++) % r.ring.length] = s;
      } else if (r.ring.length < retained) {
        // not wrapped yet (head is 0 until the ring is full at its final size): grow in place
        r.ring = Arrays.copyOf(r.ring, (int) Math.min(retained, 2L * r.ring.length));
        r.ring[r.size++] = s;
      } else {
        r.ring[r.head] = s;
        r.head = (r.head + 1) % r.ring.length;
        r.firstSeq++;
      }
    }
    stored.incrementAndGet();
    return s;
  }

  /** Messages of {@code room} with a sequence number above {@code afterSeq}, oldest first. */
  public List<Stored> read(String room, long afterSeq, int limit) {
    Room r = rooms.get(room);
    if (r == null) return List.of();
    synchronized (r) {
      int from = (int) Math.max(0, Math.min(r.size, afterSeq + 1 - r.firstSeq));
      int to = (int) Math.min(r.size, from + (long) Math.max(0, limit));
      List<Stored> out = new ArrayList<>(Math.max(0, to - from));
      for (int i = from; i < to; i++) out.add(r.get(i));
      return out;
    }
  }

  public long storedCount() {
    return stored.get();
  }

  public int roomCount() {
    return rooms.size();
  }
}
