package com.acme.chat.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import com.acme.chat.util.Clock;

/**
 * Last stage: the rooms' message logs (in memory; each room keeps its newest messages, up to
 * {@value #RETAINED} by default: past the limit the older half goes). Every stored message gets
 * the room's next sequence number and the time it became readable.
 */
public class MessageStore {
    public static final int RETAINED = 50_000;

    /** One delivered message: its room sequence number, delivery time and JSON. */
    public record Stored(long seq, long storedAtMicros, String json) {}

    private static final class Room {
        final List<Stored> log = new ArrayList<>();
        long firstSeq = 1;
        long nextSeq = 1;
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
        Room r = rooms.computeIfAbsent(room, k -> new Room());
        Stored s;
        synchronized (r) {
            s = new Stored(r.nextSeq++, Clock.nowMicros(), json);
            r.log.add(s);
            if (r.log.size() > retained) {
                int drop = r.log.size() - retained / 2;
                r.log.subList(0, drop).clear();
                r.firstSeq += drop;
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
            int from = (int) Math.max(0, afterSeq + 1 - r.firstSeq);
            int to = Math.min(r.log.size(), from + Math.max(0, limit));
            if (from >= to) return List.of();
            return new ArrayList<>(r.log.subList(from, to));
        }
    }

    public long storedCount() {
        return stored.get();
    }

    public int roomCount() {
        return rooms.size();
    }
}
