package com.acme.chat.model;

/**
 * One chat message as it moves through the pipeline. {@code rendered} is null until the emoji
 * renderer has run; {@code attempts} counts failed processing attempts so far.
 */
public record Message(
    String id,
    String room,
    String author,
    String text,
    String rendered,
    long receivedAtMicros,
    int attempts) {

  public Message withRendered(String r) {
    return new Message(id, room, author, text, r, receivedAtMicros, attempts);
  }

  public Message withText(String t) {
    return new Message(id, room, author, t, rendered, receivedAtMicros, attempts);
  }

  public Message nextAttempt() {
    return new Message(id, room, author, text, rendered, receivedAtMicros, attempts + 1);
  }
}
