package dev.firebreak.alert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StackFrameFormatTest {
  @Test
  void framesReadTheSameWhateverLoaderOrModuleTheyCameFrom() {
    StackTraceElement app =
        new StackTraceElement("app", null, null, "testapp.Spinner", "spin", "Spinner.java", 9);
    StackTraceElement base =
        new StackTraceElement(
            null, "java.base", "17", "java.lang.Thread", "run", "Thread.java", 833);
    assertThat(app.toString()).startsWith("app//");
    assertThat(StackFolder.fold(new StackTraceElement[] {app, app, base}, StackFolder.MAX_LINES))
        .containsExactly(
            "testapp.Spinner.spin(Spinner.java:9) x2", "java.lang.Thread.run(Thread.java:833)");
  }

  @Test
  void nativeAndUnknownFrames() {
    assertThat(StackFolder.frame(new StackTraceElement("a.B", "c", null, -2)))
        .isEqualTo("a.B.c(Native Method)");
    assertThat(StackFolder.frame(new StackTraceElement("a.B", "c", null, -1)))
        .isEqualTo("a.B.c(Unknown Source)");
    assertThat(StackFolder.frame(new StackTraceElement("a.B", "c", "B.java", -1)))
        .isEqualTo("a.B.c(B.java)");
  }
}
