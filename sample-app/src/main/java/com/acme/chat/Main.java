package com.acme.chat;

import com.acme.chat.load.LatencyLog;
import com.acme.chat.load.LoadGenerator;
import com.acme.chat.pipeline.MessageStore;
import com.acme.chat.replay.Replay;
import com.acme.chat.server.ChatServer;
import com.acme.chat.soak.Soak;
import com.acme.chat.util.Args;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The sample chat service and its tools.
 *
 * <pre>
 * java -jar firebreak-sample-app.jar [serve] [--port 8080] [--workers 4] [--queue 256] [--max-retries 50] ...
 * java -jar firebreak-sample-app.jar load --rate 500 --duration 60s [--target http://127.0.0.1:8080] [--json] [--histogram-log FILE]
 * java -jar firebreak-sample-app.jar replay [--agent PATH] [--rules PATH]... [--without-agent-only] [--auto-rollback] [--report FILE.html] [--json]
 * java -jar firebreak-sample-app.jar soak [--duration 10m] [--agent PATH] [--rules PATH] [--alertmanager PATH]
 * </pre>
 */
public final class Main {
  private Main() {}

  public static void main(String[] argv) {
    List<String> args = new ArrayList<>(Arrays.asList(argv));
    String command = "serve";
    if (!args.isEmpty() && !args.get(0).startsWith("-")) command = args.remove(0);
    try {
      switch (command) {
        case "serve":
          serve(args);
          break;
        case "load":
          System.exit(load(args));
          break;
        case "replay":
          System.exit(Replay.main(args));
          break;
        case "soak":
          System.exit(Soak.main(args));
          break;
        case "help":
          usage();
          break;
        default:
          throw new Args.UsageException("unknown command '" + command + "'");
      }
    } catch (Args.UsageException e) {
      System.err.println("error: " + e.getMessage());
      usage();
      System.exit(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    } catch (IOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  static void usage() {
    System.err.println(
        String.join(
            "\n",
            "usage: java -jar firebreak-sample-app.jar COMMAND [options]",
            "  serve   (default) the chat service",
            "          --host 127.0.0.1 --port 8080 --workers 8 --queue 256 --max-retries "
                + ChatServer.DEFAULT_MAX_RETRIES,
            "          --retry-backoff 20ms --retry-backoff-max 200ms --enqueue-wait 50ms --store-latency 1ms",
            "          --http-threads 32 --pack default --retain "
                + MessageStore.RETAINED
                + "   (messages kept a room)",
            "          --rollback-on-firebreak --rollback-window 60s   (POST /hooks/firebreak takes Firebreak's",
            "                         webhook: a trip or fence within the window after a pack change",
            "                         restores the pack before)",
            "          --firebreak-admin http://127.0.0.1:9464 --firebreak-token-file PATH   (after a rollback,",
            "                         also close the tripped target's kill switch)",
            "  load    open-loop load generator",
            "          --target http://127.0.0.1:8080 --rate 200 --duration 60s --rooms 4 --deadline 5s",
            "          --timeout 3s --emoji-pct 25 --celebration-pct 5 --seed 42 --json",
            "          --warmup 0s   (first send at this rate, unmeasured, in the same JVM; the figures are of",
            "                         the --duration after it)",
            "          --histogram-log FILE   (the measured figures' latency histogram, in HdrHistogram's log",
            "                         format: one interval tagged 'load', microseconds)",
            "  replay  the emoji-pack outage, without and with the Firebreak agent, side by side",
            "          --agent PATH --rate 200 --warmup 3s --steady 8s --incident 15s --recovery 12s",
            "          --max-retries "
                + ChatServer.DEFAULT_MAX_RETRIES
                + " --without-agent-only --with-agent-only --json",
            "          --rules PATH   (one more run with Firebreak, with this rules file, beside the one with",
            "                         rules/emoji-pipeline.yaml; may be repeated; e.g. rules/auto-fence.yaml)",
            "          --auto-rollback   (the service restores the last good pack on Firebreak's webhook; no",
            "                         good pack by hand)",
            "          --report FILE.html   (every run per second, drawn to SVG) --keep",
            "  soak    chaos soak: the service with the agent under load while packs, rules, kill switches,",
            "          Alertmanager and attach/detach change on a schedule; exit 0 only if every check holds",
            "          --duration 10m --rate 200 --warmup 10s --step 3s --open-for 3s --agent PATH --rules PATH",
            "          --alertmanager PATH --keep --json"));
  }

  static void serve(List<String> argv) throws IOException, InterruptedException {
    Args a = new Args(argv, Set.of("rollback-on-firebreak"));
    ChatServer.Options d = ChatServer.Options.defaults();
    ChatServer.Options o =
        new ChatServer.Options(
            a.string("host", d.host()),
            a.integer("port", d.port()),
            a.integer("workers", d.workers()),
            a.integer("queue", d.queue()),
            a.integer("max-retries", d.maxRetries()),
            a.duration("retry-backoff", d.backoff()),
            a.duration("retry-backoff-max", d.backoffMax()),
            a.duration("enqueue-wait", d.enqueueWait()),
            a.duration("store-latency", d.storeLatency()),
            a.integer("http-threads", d.httpThreads()),
            a.string("pack", d.pack()),
            a.integer("retain", d.retain()));
    boolean rollback = a.flag("rollback-on-firebreak");
    Duration rollbackWindow = a.duration("rollback-window", Duration.ofSeconds(60));
    String admin = a.string("firebreak-admin", null);
    String token = a.string("firebreak-token-file", null);
    a.rejectUnknown();
    if (!a.positional().isEmpty())
      throw new Args.UsageException("unexpected argument " + a.positional().get(0));
    if (o.workers() < 1
        || o.queue() < 1
        || o.maxRetries() < 0
        || o.httpThreads() < 1
        || o.retain() < 2) {
      throw new Args.UsageException(
          "workers, queue and http-threads must be >= 1, max-retries >= 0, retain >= 2");
    }
    if ((admin == null) != (token == null))
      throw new Args.UsageException("--firebreak-admin and --firebreak-token-file go together");
    if (!rollback && admin != null)
      throw new Args.UsageException("--firebreak-admin is for --rollback-on-firebreak");
    ChatServer server = new ChatServer(o);
    if (rollback)
      server.rollBackOnFirebreak(
          rollbackWindow,
          admin == null ? null : URI.create(admin),
          token == null ? null : Path.of(token));
    server.start();
    System.out.printf(
        "chat service listening on http://%s:%d (workers %d, queue %d, max-retries %d, pack %s)%n",
        o.host(), server.port(), o.workers(), o.queue(), o.maxRetries(), server.renderer().pack());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
  }

  static int load(List<String> argv) throws IOException, InterruptedException {
    Args a = new Args(argv, Set.of("json"));
    LoadGenerator.Options d = LoadGenerator.Options.defaults(URI.create("http://127.0.0.1:8080"));
    String target = a.string("target", d.target().toString());
    LoadGenerator.Options o =
        new LoadGenerator.Options(
            URI.create(target.endsWith("/") ? target : target + "/"),
            a.decimal("rate", d.rate()),
            a.duration("duration", d.duration()),
            a.integer("rooms", d.rooms()),
            a.duration("deadline", d.deadline()),
            a.duration("timeout", d.requestTimeout()),
            a.integer("seed", (int) d.seed()),
            a.decimal("emoji-pct", d.emojiPct()),
            a.decimal("celebration-pct", d.celebrationPct()));
    Duration warmup = a.duration("warmup", Duration.ZERO);
    boolean json = a.flag("json");
    String histogramLogOption = a.string("histogram-log", null);
    a.rejectUnknown();
    if (o.rate() <= 0 || o.duration().isNegative() || o.duration().isZero()) {
      throw new Args.UsageException("--rate and --duration must be positive");
    }
    if (warmup.isNegative()) {
      throw new Args.UsageException("--warmup must not be negative");
    }
    Path histogramLog =
        histogramLogOption == null ? null : Path.of(histogramLogOption).toAbsolutePath();
    if (histogramLog != null
        && (Files.isDirectory(histogramLog) || !Files.isDirectory(histogramLog.getParent()))) {
      // found out now rather than after the run
      throw new Args.UsageException(
          "--histogram-log " + histogramLogOption + ": not a file in an existing directory");
    }
    LoadGenerator gen;
    if (warmup.isZero()) {
      System.err.printf(
          "load: %.0f msg/s for %ss against %s%n",
          o.rate(), o.duration().toMillis() / 1000.0, o.target());
      gen = new LoadGenerator(o);
    } else {
      // one JVM for both phases: the measured one starts with a warm client (JIT, connections)
      System.err.printf(
          "load: %.0f msg/s for %ss (warm-up) + %ss against %s%n",
          o.rate(), warmup.toMillis() / 1000.0, o.duration().toMillis() / 1000.0, o.target());
      gen = new LoadGenerator(o.withDuration(warmup.plus(o.duration())));
      gen.phase("warm-up");
      gen.phaseAt(warmup, "load", () -> System.err.println("load: measured phase starts"));
    }
    LoadGenerator.Result r = gen.run();
    LoadGenerator.Summary s = warmup.isZero() ? r.total() : r.phases().get("load");
    if (!warmup.isZero()) {
      LoadGenerator.Summary w = r.phases().get("warm-up");
      System.out.println("warm-up     " + w.describe());
      if (json) System.out.println("warm-up " + w.json());
    }
    System.out.println("sent        " + s.sent());
    System.out.println("delivered   " + s.delivered());
    System.out.printf(
        "failed      %d (rejected %d, request errors/timeouts %d, late %d, never delivered %d)%n",
        s.failed(), s.rejected(), s.errors(), s.late(), s.lost());
    System.out.printf("success     %.2f %%%n", s.successPct());
    System.out.printf(
        "latency     p50 %.1f ms, p99 %.1f ms, max %.1f ms (scheduled send -> readable in the room)%n",
        s.p50Ms(), s.p99Ms(), s.maxMs());
    if (json) System.out.println(s.json());
    if (histogramLog != null) {
      // the histogram s was computed from; the run's start (its first scheduled send) is the log's
      // base time
      LatencyLog.write(
          histogramLog,
          warmup.isZero() ? r.totalLatencies() : r.phaseLatencies().get("load"),
          "load",
          r.totalLatencies().getStartTimeStamp());
    }
    return 0;
  }

  /** Parses a duration option value (shared by the commands). */
  public static Duration duration(String v) {
    return Args.parseDuration(v);
  }
}
