package com.acme.chat.server;

import com.acme.chat.render.EmojiPack;
import java.time.Duration;
import java.util.Map;

/**
 * The rollback the postmortem asked for: when Firebreak reports that the renderer's kill switch
 * tripped (or that it fenced a runaway) soon after an emoji pack was deployed, the pack that was
 * live before comes back by itself.
 *
 * <p>Fed by Firebreak's webhook ({@code POST /hooks/firebreak}, one alert event as JSON). An event
 * counts when it is not a "resolved" event and either its action is {@code trip} or its rule is
 * {@code auto-fence}, and it arrives within {@code window} of the last pack change. Each change is
 * rolled back at most once, and a rollback is never itself rolled back. Which target tripped is not
 * checked: within the window after a pack change, the service blames the change.
 */
public final class PackRollback {
  /** What the service did with one event. */
  public record Decision(boolean rolledBack, String reason, EmojiPack restored) {}

  private final Duration window;
  private EmojiPack previous; // live before the last change; null when there is nothing to restore
  private long changedAtMicros = -1;
  private String changedTo = "";

  public PackRollback(Duration window) {
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("the rollback window must be positive");
    }
    this.window = window;
  }

  public Duration window() {
    return window;
  }

  /** A pack was deployed by hand (or by an upload): it may be rolled back within the window. */
  public synchronized void deployed(EmojiPack before, EmojiPack after, long nowMicros) {
    previous = before;
    changedAtMicros = nowMicros;
    changedTo = after.toString();
  }

  /**
   * Decides on one Firebreak alert event; when it says so, the caller deploys {@link
   * Decision#restored()}.
   */
  public synchronized Decision onEvent(Map<String, Object> event, long nowMicros) {
    if (Boolean.TRUE.equals(event.get("resolved"))) {
      return new Decision(false, "a resolved event", null);
    }
    boolean trip = "trip".equals(event.get("action"));
    boolean fence = "auto-fence".equals(event.get("rule"));
    if (!trip && !fence) {
      return new Decision(false, "neither a trip nor a fence", null);
    }
    if (previous == null || changedAtMicros < 0) {
      return new Decision(false, "no pack change to roll back", null);
    }
    long since = nowMicros - changedAtMicros;
    if (since > window.toNanos() / 1000) {
      return new Decision(
          false,
          String.format(
              "the last pack change was %.1f s ago, outside the %d s window",
              since / 1e6, window.toSeconds()),
          null);
    }
    EmojiPack restore = previous;
    previous = null; // at most once per change; a rollback is not rolled back
    String reason =
        String.format(
            "Firebreak %s %s on target %s (%s) %.1f s after %s was deployed",
            fence ? "fenced a runaway:" : "tripped the kill switch: rule",
            event.get("rule"),
            event.get("target"),
            event.get("method"),
            since / 1e6,
            changedTo);
    return new Decision(true, reason, restore);
  }
}
