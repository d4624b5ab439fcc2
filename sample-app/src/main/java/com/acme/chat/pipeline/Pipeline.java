package com.acme.chat.pipeline;

import com.acme.chat.model.Message;
import com.acme.chat.render.EmojiRenderer;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * One message through the pipeline: parse, render emojis, serialize, store. Runs on a worker thread
 * ({@link Workers}); any exception or error thrown here is a failed attempt, retried with backoff
 * by the workers and finally dead-lettered.
 */
public class Pipeline {
  private final MessageParser parser;
  private final EmojiRenderer renderer;
  private final MessageSerializer serializer;
  private final MessageStore store;
  private final long storeLatencyNanos;

  /**
   * @param storeLatency how long a store write takes (stands in for the database round trip of a
   *     real deployment; zero for none)
   */
  public Pipeline(
      MessageParser parser,
      EmojiRenderer renderer,
      MessageSerializer serializer,
      MessageStore store,
      Duration storeLatency) {
    this.parser = parser;
    this.renderer = renderer;
    this.serializer = serializer;
    this.store = store;
    this.storeLatencyNanos = storeLatency.toNanos();
  }

  public void process(Message m) {
    Message parsed = parser.parse(m);
    String rendered = renderer.expand(parsed.text(), 0);
    String json = serializer.serialize(parsed.withRendered(rendered));
    if (storeLatencyNanos > 0) LockSupport.parkNanos(storeLatencyNanos);
    store.append(parsed.room(), json);
  }

  public EmojiRenderer renderer() {
    return renderer;
  }

  public MessageStore store() {
    return store;
  }
}
