package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StackFolderTest {

  @Test
  void foldsARepeatedFrame() {
    List<String> frames = new ArrayList<>();
    for (int i = 0; i < 33; i++) {
      frames.add("a.R.expand(R.java:41)");
    }
    frames.add("a.P.process(P.java:88)");
    assertThat(StackFolder.foldFrames(frames, 20))
        .containsExactly("a.R.expand(R.java:41) x33", "a.P.process(P.java:88)");
  }

  @Test
  void foldsACycleSpanningSeveralMethods() {
    List<String> frames = new ArrayList<>();
    frames.add("top");
    for (int i = 0; i < 10; i++) {
      frames.add("A.a(A.java:1)");
      frames.add("B.b(B.java:2)");
    }
    frames.add("main");
    assertThat(StackFolder.foldFrames(frames, 20))
        .containsExactly("top", "A.a(A.java:1) -> B.b(B.java:2) x10", "main");
  }

  @Test
  void keepsAtMostTheLimitAndSaysWhatWasCut() {
    List<String> frames = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      frames.add("F" + i);
    }
    List<String> folded = StackFolder.foldFrames(frames, 20);
    assertThat(folded).hasSize(20);
    assertThat(folded.get(19)).isEqualTo("… 31 more frames");
  }

  @Test
  void dropsTheAgentsOwnFramesFromTheTop() {
    StackTraceElement[] stack = {
      new StackTraceElement("java.lang.Thread", "getStackTrace", "Thread.java", 1),
      new StackTraceElement("dev.firebreak.runtime.Engine", "fire", "Engine.java", 2),
      new StackTraceElement("app.R", "expand", "R.java", 41),
      new StackTraceElement("app.R", "expand", "R.java", 41),
    };
    assertThat(StackFolder.fold(stack, 20)).containsExactly("app.R.expand(R.java:41) x2");
  }

  @Test
  void eventJsonCarriesEverySpecField() {
    AlertEvent e =
        new AlertEvent(
            0,
            "r",
            "t",
            "expand(String,int)",
            "trip",
            "enforce",
            33,
            32,
            "worker-3",
            java.util.Map.of("service", "chat"),
            "abc",
            new StackTraceElement[] {new StackTraceElement("app.R", "expand", "R.java", 41)},
            new AlertEvent.ArgumentInfo(0, "String", 12, "ff", null),
            false);
    assertThat(e.toJson())
        .isEqualTo(
            "{\"time\":\"1970-01-01T00:00:00Z\",\"rule\":\"r\",\"target\":\"t\",\"method\":\"expand(String,int)\","
                + "\"action\":\"trip\",\"mode\":\"enforce\",\"value\":33,\"threshold\":32,\"thread\":\"worker-3\","
                + "\"labels\":{\"service\":\"chat\"},\"rules_sha256\":\"abc\",\"stack\":[\"app.R.expand(R.java:41)\"],"
                + "\"argument\":{\"index\":0,\"type\":\"String\",\"length\":12,\"sha256\":\"ff\"}}");
  }
}
