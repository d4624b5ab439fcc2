package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SPEC section 5: bearer token, 401 changes nothing, manual open/close, /rules, /reload. */
class AdminIT {
  private static final String JAVA = ChildJvm.javas().findFirst().orElseThrow();

  private static HttpResponse<String> call(int port, String method, String path, String token) {
    return ChildJvm.admin(port, method, path, token);
  }

  private static String rules(int port, String admin) {
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: off}\n"
        + "reload: {watch: false}\n"
        + admin
        + "targets:\n"
        + "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
        + "     rules: [{name: emoji-recursion, depth: 16, action: trip}]}\n";
  }

  @Test
  void theRightTokenOpensAndClosesAKillSwitchAndAWrongOneChangesNothing() throws Exception {
    int port = ChildJvm.freePort();
    Path token = Files.createTempFile("admin-token", "");
    Files.writeString(token, "s3cret-token\n");
    Path file = ChildJvm.writeRules(rules(port, "admin: {token-file: " + token + "}\n"));
    Map<String, String> target = Map.of("target", "emoji");
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      app.metrics(port); // the agent's HTTP server is up
      assertThat(call(port, "POST", "/targets/emoji/open", null).statusCode()).isEqualTo(401);
      assertThat(call(port, "POST", "/targets/emoji/open", "wrong").statusCode()).isEqualTo(401);
      assertThat(call(port, "POST", "/targets/emoji/open", "s3cret-token-but-longer").statusCode())
          .isEqualTo(401);
      assertThat(call(port, "GET", "/rules", "").statusCode()).isEqualTo(401);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isZero();
      // /metrics never needs a token
      assertThat(call(port, "GET", "/metrics", null).statusCode()).isEqualTo(200);

      HttpResponse<String> opened = call(port, "POST", "/targets/emoji/open", "s3cret-token");
      assertThat(opened.statusCode()).isEqualTo(200);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isEqualTo(1);
      app.send("once");
      app.awaitLine("RESULT hi :a:");
      assertThat(
              app.sample(
                  port,
                  "firebreak_short_circuits_total",
                  Map.of("target", "emoji", "reason", "open")))
          .isEqualTo(1);

      HttpResponse<String> targets = call(port, "GET", "/targets", "s3cret-token");
      assertThat(targets.statusCode()).isEqualTo(200);
      assertThat(targets.body())
          .contains("\"name\":\"emoji\"", "\"kill_switch\":\"open\"", "\"opened_by\":\"admin\"");

      assertThat(call(port, "POST", "/targets/emoji/close", "s3cret-token").statusCode())
          .isEqualTo(200);
      assertThat(app.sample(port, "firebreak_kill_switch_state", target)).isZero();
      assertThat(call(port, "POST", "/targets/nope/open", "s3cret-token").statusCode())
          .isEqualTo(404);
      assertThat(call(port, "GET", "/targets/emoji/open", "s3cret-token").statusCode())
          .isEqualTo(405);

      HttpResponse<String> rules = call(port, "GET", "/rules", "s3cret-token");
      assertThat(rules.statusCode()).isEqualTo(200);
      assertThat(rules.body())
          .contains("\"source\":\"" + file + "\"", "\"targets\":[\"emoji\"]", "emoji-recursion");

      HttpResponse<String> reload = call(port, "POST", "/reload", "s3cret-token");
      assertThat(reload.statusCode()).isEqualTo(200);
      assertThat(reload.body()).contains("\"result\":\"unchanged\"");
      Files.writeString(
          file,
          rules(port, "admin: {token-file: " + token + "}\n").replace("depth: 16", "depth: 17"));
      assertThat(call(port, "POST", "/reload", "s3cret-token").body())
          .contains("\"result\":\"success\"");
      Files.writeString(file, "version: 1\ntargets: [\n");
      HttpResponse<String> failed = call(port, "POST", "/reload", "s3cret-token");
      assertThat(failed.statusCode()).isEqualTo(422);
      assertThat(failed.body()).contains("\"result\":\"failure\"");
      assertThat(app.sample(port, "firebreak_rules_reloads_total", Map.of("result", "failure")))
          .isEqualTo(1);
    }
  }

  @Test
  void withoutATokenFileTheAdminEndpointsAreOff() throws Exception {
    int port = ChildJvm.freePort();
    Path file = ChildJvm.writeRules(rules(port, ""));
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      app.metrics(port); // the agent's HTTP server is up
      assertThat(call(port, "POST", "/targets/emoji/open", "anything").statusCode()).isEqualTo(404);
      assertThat(call(port, "GET", "/rules", null).statusCode()).isEqualTo(404);
      assertThat(app.sample(port, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();
    }
  }

  /**
   * Issue 16, item 2 (SPEC section 5): the token file is read again when it changes, without the
   * rules file changing: the new token works and the old one gets 401 within one reload interval. A
   * token file that group or others may read is refused with one firebreak: line, like ssh refuses
   * such a key, and the admin endpoints are off until it is fixed.
   */
  @Test
  void aRotatedTokenIsInForceWithinOneReloadIntervalAndALooseTokenFileIsRefused() throws Exception {
    int port = ChildJvm.freePort();
    Path token = Files.createTempFile("admin-token", ""); // 0600, as a token file should be
    Files.writeString(token, "first-token\n");
    Path file =
        ChildJvm.writeRules(
            rules(port, "admin: {token-file: " + token + "}\n")
                .replace("reload: {watch: false}", "reload: {interval: 1s}"));
    Duration interval = Duration.ofSeconds(1);
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      app.metrics(port);
      assertThat(call(port, "GET", "/rules", "first-token").statusCode()).isEqualTo(200);

      // rotate as a deployment tool does: write a new file, move it over the old one
      Path next = Files.createTempFile(token.getParent(), "admin-token", ".new");
      Files.writeString(next, "second-token\n");
      Files.move(next, token, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      await()
          .atMost(interval)
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () -> {
                assertThat(call(port, "GET", "/rules", "first-token").statusCode()).isEqualTo(401);
                assertThat(call(port, "GET", "/rules", "second-token").statusCode()).isEqualTo(200);
              });
      // in place, as an editor does
      Files.writeString(token, "third-token\n");
      await()
          .atMost(interval)
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () -> {
                assertThat(call(port, "POST", "/targets/emoji/open", "second-token").statusCode())
                    .isEqualTo(401);
                assertThat(call(port, "GET", "/rules", "third-token").statusCode()).isEqualTo(200);
              });
      assertThat(app.sample(port, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();
      assertThat(app.sample(port, "firebreak_rules_reloads_total", Map.of("result", "success")))
          .isZero(); // the rules file never changed

      // readable by others: refused, one line however many requests come
      Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
      await()
          .atMost(interval)
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () ->
                  assertThat(call(port, "GET", "/rules", "third-token").statusCode())
                      .isEqualTo(404));
      for (int i = 0; i < 5; i++) {
        assertThat(call(port, "POST", "/targets/emoji/open", "third-token").statusCode())
            .isEqualTo(404);
      }
      assertThat(app.stderr().lines().filter(l -> l.contains("admin token file")).toList())
          .containsExactly(
              "firebreak: admin token file "
                  + token
                  + " may be accessed by group or others (rw-r--r--), so it is not used"
                  + " (run: chmod 600 "
                  + token
                  + "); the admin endpoints stay off");
      assertThat(app.sample(port, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();

      Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
      await()
          .atMost(interval)
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () ->
                  assertThat(call(port, "GET", "/rules", "third-token").statusCode())
                      .isEqualTo(200));
      assertThat(app.stderr())
          .contains("firebreak: admin token file " + token + " is in use again");
    }
  }

  @Test
  void aTokenFileThatOthersMayReadKeepsTheAdminEndpointsOffFromTheStart() throws Exception {
    int port = ChildJvm.freePort();
    Path token = Files.createTempFile("admin-token", "");
    Files.writeString(token, "s3cret-token\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r-----"));
    Path file = ChildJvm.writeRules(rules(port, "admin: {token-file: " + token + "}\n"));
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      app.metrics(port);
      // said at start, before anyone asks
      assertThat(app.stderr())
          .contains(
              "firebreak: admin token file "
                  + token
                  + " may be accessed by group or others (rw-r-----)");
      assertThat(call(port, "POST", "/targets/emoji/open", "s3cret-token").statusCode())
          .isEqualTo(404);
      assertThat(app.sample(port, "firebreak_kill_switch_state", Map.of("target", "emoji")))
          .isZero();
      assertThat(app.sample(port, "firebreak_agent_errors_total", Map.of("kind", "admin")))
          .isEqualTo(1);
    }
  }
}
