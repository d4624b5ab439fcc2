package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.acme.chat.replay.ServiceProcess;
import com.acme.chat.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop variant of the bad update, in a child JVM (its worker never comes back). */
class LoopPackIT {
  @Test
  void aCelebrationPinsAWorkerForeverWhilePlainMessagesStillFlow(@TempDir Path dir)
      throws Exception {
    try (ServiceProcess s =
        ServiceProcess.start(
            ItSupport.appJar(),
            List.of(),
            List.of("--workers", "2", "--max-retries", "3"),
            dir.resolve("service.log"),
            Duration.ofSeconds(30))) {
      assertThat(s.deployPack("bad-update-loop")).containsEntry("alias_resolution", "iterative");
      assertThat(
              s.post(
                      "/messages",
                      "{\"room\":\"r\",\"author\":\"a\",\"text\":\"party time :tada:\"}")
                  .statusCode())
          .isEqualTo(202);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> ((Number) s.json("/stats").get("in_flight")).intValue() == 1);
      assertThat(
              s.post("/messages", "{\"room\":\"r\",\"author\":\"a\",\"text\":\"plain :smile:\"}")
                  .statusCode())
          .isEqualTo(202);
      await().atMost(Duration.ofSeconds(10)).until(() -> messages(s).size() == 1);
      assertThat(messages(s).get(0).toString()).contains("plain 😄");
      // the celebration never gets out of its loop, and nothing fails: no retry, no dead letter
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(4))
          .until(
              () ->
                  ((Number) s.json("/stats").get("in_flight")).intValue() == 1
                      && messages(s).size() == 1
                      && ((Number) s.json("/stats").get("failed_attempts")).intValue() == 0);
      assertThat(Files.exists(s.log())).isTrue();
    }
  }

  private static List<?> messages(ServiceProcess s) throws Exception {
    Map<String, Object> page = Json.parseObject(s.get("/rooms/r/messages").body());
    return (List<?>) page.get("messages");
  }
}
