package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import dev.firebreak.rules.Text;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 3: the alert log is private to its owner, and no log line carries a URL's secrets.
 */
class SecretsInLogsTest {

  @Test
  void theAlertLogIsCreatedReadableByItsOwnerOnly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("alerts.jsonl");
    LogSink sink = LogSink.file(file.toString());
    try {
      sink.send(AlertDispatcherTest.event(1));
    } finally {
      sink.close();
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(file)).contains("\"rule\":\"r1\"");
    // appending keeps what is there
    LogSink again = LogSink.file(file.toString());
    again.send(AlertDispatcherTest.event(2));
    again.close();
    assertThat(Files.readAllLines(file)).hasSize(2);
  }

  @Test
  void urlsArePrintedWithoutUserInfoQueryOrFragment() {
    assertThat(Text.redactUrl("https://bot:hunter2@hooks.example:8443/x/y?token=s3cr3t&a=b#frag"))
        .isEqualTo("https://redacted@hooks.example:8443/x/y?redacted#redacted");
    assertThat(Text.redactUrl("http://am.example:9093")).isEqualTo("http://am.example:9093");
    assertThat(Text.redactUrl("http://am.example:9093/api/v2/alerts"))
        .isEqualTo("http://am.example:9093/api/v2/alerts");
    assertThat(Text.redactUrl("http://u:p@ss@h/")).isEqualTo("http://redacted@h/");
    assertThat(Text.redactUrl("http://h?k=v")).isEqualTo("http://h?redacted");
    assertThat(Text.redactUrl("http://h/#k=v")).isEqualTo("http://h/#redacted");
    assertThat(Text.redactUrl("user:pw@host:9093/x")).isEqualTo("redacted@host:9093/x");
    assertThat(Text.redactUrl("webhook https://u:p@h/x?t=1"))
        .isEqualTo("webhook https://redacted@h/x?redacted");
  }

  @Test
  void aFailingSinkIsReportedWithoutTheSecretsOfItsUrl() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    AlertDispatcher d = new AlertDispatcher(8, 1, 10);
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      URI hook =
          URI.create(
              "http://bot:hunter2@127.0.0.1:"
                  + AlertDispatcherTest.refusedPort()
                  + "/hook?token=s3cr3t");
      URI am =
          URI.create(
              "http://bot:hunter3@127.0.0.1:"
                  + AlertDispatcherTest.refusedPort()
                  + "/?token=s3cr3t3");
      d.setSinks(
          List.of(
              new WebhookSink(hook),
              new AlertmanagerSink(
                  am,
                  RulesParser.parse(
                      "r.yaml", "version: 1\ntargets: []\n".getBytes(StandardCharsets.UTF_8)))));
      d.offer(AlertDispatcherTest.event(1));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> captured.toString(StandardCharsets.UTF_8).lines().count() >= 2);
    } finally {
      d.stop();
      System.setErr(stderr);
    }
    String lines = captured.toString(StandardCharsets.UTF_8);
    assertThat(lines)
        .contains("alert sink webhook http://redacted@127.0.0.1:", "/hook?redacted failed");
    assertThat(lines).contains("alert sink alertmanager http://redacted@127.0.0.1:");
    assertThat(lines).doesNotContain("hunter", "s3cr3t", "bot");
  }

  @Test
  void aRulesErrorAboutAUrlDoesNotPrintItsSecrets() {
    byte[] file =
        "version: 1\nalerts: {webhook: \"ftp://bot:hunter2@hooks.example/x?token=s3cr3t\"}\ntargets: []\n"
            .getBytes(StandardCharsets.UTF_8);
    RulesException e =
        catchThrowableOfType(RulesException.class, () -> RulesParser.parse("r.yaml", file));
    assertThat(e.errors()).hasSize(1);
    assertThat(e.errors().get(0).toString())
        .startsWith("r.yaml:2:19: alerts.webhook: expected an http:// or https:// URL")
        .contains("ftp://redacted@hooks.example/x?redacted")
        .doesNotContain("hunter2", "s3cr3t", "bot");
  }
}
