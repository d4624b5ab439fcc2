package com.acme.chat.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import com.acme.chat.model.Message;
import com.acme.chat.util.Clock;

/** Messages given up on: a count and the most recent entries. */
public class DeadLetters {
    public static final int RECENT = 50;

    public record Entry(String id, String room, String author, int attempts, String error, long atMicros) {}

    private final AtomicLong count = new AtomicLong();
    private final Deque<Entry> recent = new ArrayDeque<>();

    public void add(Message m, int attempts, Throwable cause) {
        count.incrementAndGet();
        String error = cause.getClass().getName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        Entry e = new Entry(m.id(), m.room(), m.author(), attempts, error, Clock.nowMicros());
        synchronized (recent) {
            recent.addFirst(e);
            while (recent.size() > RECENT) recent.removeLast();
        }
    }

    public long count() {
        return count.get();
    }

    /** Newest first. */
    public List<Entry> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }
}
