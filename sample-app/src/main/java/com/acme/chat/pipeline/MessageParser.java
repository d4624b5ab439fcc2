package com.acme.chat.pipeline;

import com.acme.chat.model.Message;

/** First pipeline stage: validates a message and normalizes its text. */
public class MessageParser {
  public static final int MAX_TEXT = 4000;

  /** Thrown for a message that can never be processed (not worth a retry). */
  public static final class InvalidMessageException extends RuntimeException {
    public InvalidMessageException(String message) {
      super(message);
    }
  }

  public Message parse(Message m) {
    if (m.room() == null || !m.room().matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new InvalidMessageException("room must be 1-64 characters of [A-Za-z0-9_.-]");
    }
    if (m.author() == null || m.author().isBlank() || m.author().length() > 64) {
      throw new InvalidMessageException("author must be 1-64 characters");
    }
    if (m.text() == null) throw new InvalidMessageException("text is required");
    StringBuilder b = new StringBuilder(m.text().length());
    boolean space = false;
    for (int i = 0; i < m.text().length(); i++) {
      char c = m.text().charAt(i);
      if (c == '\n') {
        b.append(c);
        space = false;
        continue;
      }
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
        if (!space && b.length() > 0) b.append(' ');
        space = true;
      } else {
        b.append(c);
        space = false;
      }
    }
    String text = b.toString().strip();
    if (text.isEmpty()) throw new InvalidMessageException("text is empty");
    if (text.length() > MAX_TEXT)
      throw new InvalidMessageException("text is longer than " + MAX_TEXT + " characters");
    return m.withText(text);
  }
}
