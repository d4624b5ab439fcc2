package com.acme.chat.load;

import java.util.List;
import java.util.Random;

/**
 * What users post: mostly plain text, some messages with common emojis, and a few with the
 * celebration shortcodes (:tada:, :party:, ...) that the bad pack update poisons. The mix never
 * changes during a run; only the live pack decides whether a celebration is harmless.
 */
public final class MessageMix {
  static final List<String> ROOMS = List.of("general", "random", "dev", "ops", "support", "design");
  static final List<String> AUTHORS =
      List.of("ana", "bo", "chen", "dara", "eli", "femi", "gus", "hana", "ivan", "jo");
  static final List<String> WORDS =
      List.of(
          "the",
          "deploy",
          "is",
          "done",
          "can",
          "someone",
          "review",
          "my",
          "pull",
          "request",
          "lunch",
          "at",
          "noon",
          "standup",
          "moved",
          "to",
          "ten",
          "build",
          "green",
          "again",
          "thanks",
          "for",
          "the",
          "fix",
          "who",
          "owns",
          "this",
          "alert",
          "looks",
          "good",
          "to",
          "me",
          "merging",
          "now",
          "coffee",
          "anyone",
          "release",
          "notes",
          "are",
          "up",
          "ticket",
          "closed",
          "meeting",
          "in",
          "five",
          "minutes",
          "on",
          "call",
          "handover",
          "dashboard",
          "latency",
          "looks",
          "fine",
          "rollback",
          "finished",
          "customer",
          "happy");
  static final List<String> EMOJIS =
      List.of(
          ":smile:",
          ":thumbsup:",
          ":+1:",
          ":heart:",
          ":fire:",
          ":rocket:",
          ":eyes:",
          ":lol:",
          ":happy:",
          ":lgtm:",
          ":wave:",
          ":thanks:",
          ":100:",
          ":sparkles:",
          ":coffee:",
          ":shipit:",
          ":hmm:",
          ":rofl:");

  /** The shortcodes of the bad update's alias cycle. */
  static final List<String> CELEBRATIONS = List.of(":tada:", ":party:", ":celebrate:", ":hooray:");

  private final Random random;
  private final int rooms;
  private final double emojiShare;
  private final double celebrationShare;

  public MessageMix(long seed, int rooms, double emojiPct, double celebrationPct) {
    this.random = new Random(seed);
    this.rooms = Math.max(1, Math.min(rooms, ROOMS.size()));
    this.emojiShare = emojiPct / 100.0;
    this.celebrationShare = celebrationPct / 100.0;
  }

  /** A message to post. */
  public record Post(String room, String author, String text) {}

  public synchronized Post next() {
    String room = ROOMS.get(random.nextInt(rooms));
    String author = AUTHORS.get(random.nextInt(AUTHORS.size()));
    double kind = random.nextDouble();
    StringBuilder text = new StringBuilder();
    int words = 4 + random.nextInt(16);
    for (int i = 0; i < words; i++) {
      if (i > 0) text.append(' ');
      text.append(WORDS.get(random.nextInt(WORDS.size())));
    }
    if (kind < celebrationShare) {
      text.insert(0, CELEBRATIONS.get(random.nextInt(CELEBRATIONS.size())) + " ");
      text.append(' ').append(EMOJIS.get(random.nextInt(EMOJIS.size())));
    } else if (kind < celebrationShare + emojiShare) {
      int n = 1 + random.nextInt(3);
      for (int i = 0; i < n; i++)
        text.append(' ').append(EMOJIS.get(random.nextInt(EMOJIS.size())));
    }
    return new Post(room, author, text.toString());
  }

  public List<String> rooms() {
    return ROOMS.subList(0, rooms);
  }
}
