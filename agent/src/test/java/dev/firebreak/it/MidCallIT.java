package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A reload or a detach that lands while a call is in flight (issue 13, 1): the call's exit must
 * undo exactly what its enter did, so the thread's depth, budgets and in-flight count are right for
 * every later call. The worker is one long-lived thread, as in a real pipeline.
 */
class MidCallIT {

  static java.util.stream.Stream<String> javas() {
    return ChildJvm.javas();
  }

  private static String rules(int port, boolean withPipe) {
    String lookupRules =
        withPipe
            ? "[{name: lookup-budget, calls-per-invocation: {limit: 3, of: pipe}, action: limit}]"
            : "[{name: lookup-deep, depth: 100, action: limit}]";
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: off}\n"
        + "reload: {watch: true, interval: 200ms}\n"
        + "targets:\n"
        + (withPipe
            ? "  - {name: pipe, class: testapp.Pipe, method: process,\n"
                + "     rules: [{name: pipe-stuck, duration: 2s, action: alert}]}\n"
            : "")
        + "  - {name: lookup, class: testapp.Pipe, method: lookup, fallback: 'return-value:short',\n"
        + "     rules: "
        + lookupRules
        + "}\n";
  }

  private static void write(Path file, String content) throws Exception {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static double reloads(ChildJvm app, int port) {
    return ChildJvm.sample(
        app.metrics(port), "firebreak_rules_reloads_total", Map.of("result", "success"));
  }

  /** One message, counted by the agent: the rules are in force and the classes instrumented. */
  private static void watched(ChildJvm app, int port) throws Exception {
    app.send("msg 1");
    app.awaitLine("SHORT 0 OF 1");
    await()
        .atMost(ChildJvm.TIMEOUT)
        .until(
            () -> {
              app.send("msg 1");
              return app.sample(port, "firebreak_calls_total", Map.of("target", "lookup")) >= 1;
            });
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aTargetDroppedAndRestoredWhileACallIsInsideLeavesTheThreadAsItWas(String java)
      throws Exception {
    int port = ChildJvm.freePort();
    Path file = ChildJvm.writeRules(rules(port, true));
    try (ChildJvm app = ChildJvm.startMain(java, "testapp.MidCall", "rules=" + file)) {
      app.awaitLine("READY");
      watched(app, port);
      app.send("hold");
      app.awaitLine("INSIDE");
      write(file, rules(port, false));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port) >= 1);
      app.send("release"); // the call ends while its target is gone
      app.awaitLine("RELEASED");
      write(file, rules(port, true));
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port) >= 2);
      app.send("msg 5");
      await().atMost(ChildJvm.TIMEOUT).until(() -> app.stdout().contains(" OF 5\n"));
      assertThat(app.stdout()).contains("SHORT 0 OF 5");
      assertThat(app.sample(port, "firebreak_inflight_calls", Map.of("target", "pipe"))).isZero();
      assertThat(app.sample(port, "firebreak_inflight_calls", Map.of("target", "lookup"))).isZero();
      double probeErrors =
          app.sample(port, "firebreak_agent_errors_total", Map.of("kind", "advice"));
      assertThat(Double.isNaN(probeErrors) || probeErrors == 0)
          .as("errors inside the advice")
          .isTrue();
    }
  }

  @ParameterizedTest
  @MethodSource("javas")
  void aDetachAndReattachWhileACallIsInsideLeavesTheThreadAsItWas(String java) throws Exception {
    int port = ChildJvm.freePort();
    Path file = ChildJvm.writeRules(rules(port, true).replace("watch: true", "watch: false"));
    try (ChildJvm app = ChildJvm.startMain(java, "testapp.MidCall", "rules=" + file)) {
      app.awaitLine("READY");
      watched(app, port);
      app.send("hold");
      app.awaitLine("INSIDE");
      String pid = Long.toString(app.pid());
      AttachIT.Cli detached = AttachIT.cli(java, "attach", pid, "--detach");
      assertThat(detached.exit()).as(detached.err()).isZero();
      app.send("release"); // the call ends while the agent is detached
      app.awaitLine("RELEASED");
      AttachIT.Cli attached = AttachIT.cli(java, "attach", pid, file.toString());
      assertThat(attached.exit()).as(attached.err()).isZero();
      app.send("msg 5");
      await().atMost(ChildJvm.TIMEOUT).until(() -> app.stdout().contains(" OF 5\n"));
      assertThat(app.stdout()).contains("SHORT 0 OF 5");
      assertThat(app.sample(port, "firebreak_inflight_calls", Map.of("target", "pipe"))).isZero();
      assertThat(app.sample(port, "firebreak_inflight_calls", Map.of("target", "lookup"))).isZero();
    }
  }
}
