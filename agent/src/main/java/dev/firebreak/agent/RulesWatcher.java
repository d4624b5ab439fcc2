package dev.firebreak.agent;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.RulesParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code reload: {watch, interval}}: polls the rules file on its own daemon thread and reloads when
 * its content changes. A change is acted on only once the content has settled (the same bytes on
 * two reads a moment apart), so an editor that saves in two steps does not produce a spurious
 * failure; and since a later change has a new digest, a file that failed is retried as soon as it
 * changes again.
 */
final class RulesWatcher implements Runnable {
  static final Duration DEFAULT_INTERVAL = RuleSet.ReloadConfig.DEFAULT.interval();
  private static final long MAX_BYTES = 1 << 20;

  private final AgentRuntime runtime;
  private Path file;
  private String lastSeen;

  /**
   * Made when the file is first read (premain), so a change made while the agent is still starting
   * is seen as a change.
   */
  RulesWatcher(AgentRuntime runtime) {
    this.runtime = runtime;
    this.file = Path.of(runtime.rulesPath());
    RuleSet rs = runtime.rules();
    this.lastSeen = rs != null ? rs.sha256() : digest();
  }

  void start() {
    Thread t = new Thread(this, "firebreak-reload"); // no lambda: none to bootstrap at start
    t.setDaemon(true);
    t.start();
  }

  /** The reload thread (a daemon): a look at the file every interval, for the JVM's life. */
  @Override
  public void run() {
    while (true) {
      RuleSet rs = runtime.rules();
      Duration interval = rs == null ? DEFAULT_INTERVAL : rs.reload().interval();
      boolean watch = rs == null || rs.reload().watch();
      try {
        Thread.sleep(Math.max(50, interval.toMillis()));
        if (watch) {
          check(interval);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        AgentErrors.report("reload", "watching " + file + " failed: " + AgentErrors.describe(t));
      }
    }
  }

  private void check(Duration interval) throws InterruptedException {
    String path = runtime.rulesPath();
    if (path == null) {
      return; // detached
    }
    if (!Path.of(path).equals(file)) {
      file = Path.of(path); // a new attach named another file, already loaded
      RuleSet rs = runtime.rules();
      lastSeen = rs != null ? rs.sha256() : digest();
      return;
    }
    String now = digest();
    if (now == null || now.equals(lastSeen)) {
      return;
    }
    Thread.sleep(Math.min(250, Math.max(20, interval.toMillis() / 4)));
    if (!now.equals(digest())) {
      return; // still being written: look again at the next poll
    }
    lastSeen = now;
    runtime.reload();
  }

  /** sha256 of the file's bytes, or null when it cannot be read (missing, a directory, too big). */
  private String digest() {
    try {
      if (!Files.isRegularFile(file) || Files.size(file) > MAX_BYTES) {
        return null;
      }
      return RulesParser.sha256(Files.readAllBytes(file));
    } catch (Exception e) {
      return null;
    }
  }
}
