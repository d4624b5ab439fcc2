package com.acme.chat.pipeline;

import com.acme.chat.model.Message;
import com.acme.chat.util.Json;

/** Third pipeline stage: the message as delivered to clients (JSON). */
public class MessageSerializer {
  public String serialize(Message m) {
    StringBuilder b = new StringBuilder(96 + 2 * m.text().length());
    b.append("{\"id\":");
    Json.quote(b, m.id());
    b.append(",\"room\":");
    Json.quote(b, m.room());
    b.append(",\"author\":");
    Json.quote(b, m.author());
    b.append(",\"text\":");
    Json.quote(b, m.rendered() == null ? m.text() : m.rendered());
    b.append(",\"raw\":");
    Json.quote(b, m.text());
    b.append(",\"received_at\":").append(m.receivedAtMicros());
    b.append('}');
    return b.toString();
  }
}
