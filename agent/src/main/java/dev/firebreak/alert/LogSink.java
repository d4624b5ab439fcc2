package dev.firebreak.alert;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** {@code alerts.log}: one JSON line per event on stderr, or appended to a file. */
public final class LogSink implements AlertSink {
  private final PrintStream out;
  private final boolean ownsStream;

  private LogSink(PrintStream out, boolean ownsStream) {
    this.out = out;
    this.ownsStream = ownsStream;
  }

  public static LogSink stderr() {
    return new LogSink(System.err, false);
  }

  public static LogSink file(String path) throws IOException {
    OutputStream os = new FileOutputStream(path, true);
    return new LogSink(new PrintStream(os, true, StandardCharsets.UTF_8), true);
  }

  @Override
  public String name() {
    return "log";
  }

  @Override
  public void send(AlertEvent event) throws IOException {
    String line = Json.event(event);
    out.println(line);
    if (out.checkError()) {
      throw new IOException("could not write the alert log");
    }
  }

  @Override
  public void close() {
    if (ownsStream) {
      out.close();
    }
  }
}
