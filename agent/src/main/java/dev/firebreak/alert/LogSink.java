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
  private final String where;

  private LogSink(PrintStream out, boolean ownsStream, String where) {
    this.out = out;
    this.ownsStream = ownsStream;
    this.where = where;
  }

  public static LogSink stderr() {
    return new LogSink(System.err, false, "stderr");
  }

  public static LogSink file(String path) throws IOException {
    OutputStream os = new FileOutputStream(path, true);
    return new LogSink(new PrintStream(os, true, StandardCharsets.UTF_8), true, path);
  }

  @Override
  public String name() {
    return "log";
  }

  @Override
  public String destination() {
    return "log " + where;
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
