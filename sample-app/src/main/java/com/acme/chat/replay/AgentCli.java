package com.acme.chat.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The agent's command line ({@code java -jar firebreak-agent.jar COMMAND ...}) as a child process.
 */
public final class AgentCli {
  /**
   * Its exit code (-1 if it was killed for taking too long), what it printed (stdout and stderr),
   * and how long it took.
   */
  public record Result(int exitCode, String output, long millis) {}

  private AgentCli() {}

  /** Runs {@code java -jar agentJar args...} with this JVM's java. */
  public static Result run(Path agentJar, List<String> args, Duration timeout)
      throws IOException, InterruptedException {
    return run(Path.of(System.getProperty("java.home"), "bin", "java"), agentJar, args, timeout);
  }

  public static Result run(Path java, Path agentJar, List<String> args, Duration timeout)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java.toString(), "-jar", agentJar.toString()));
    cmd.addAll(args);
    long start = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[][] out = new byte[1][];
    Thread reader =
        new Thread(
            () -> {
              try {
                out[0] = p.getInputStream().readAllBytes();
              } catch (IOException e) {
                out[0] =
                    ("(output unreadable: " + e.getMessage() + ")")
                        .getBytes(StandardCharsets.UTF_8);
              }
            },
            "agent-cli-output");
    reader.start();
    boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!done) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
    reader.join(5000);
    String output = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
    return new Result(done ? p.exitValue() : -1, output, (System.nanoTime() - start) / 1_000_000);
  }
}
