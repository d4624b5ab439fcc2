package dev.firebreak.alert;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** {@code alerts.log}: one JSON line per event on stderr, or appended to a file. */
public final class LogSink implements AlertSink {
  private static final FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
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

  /**
   * Appends to {@code path}. A new file is created {@code 0600}: events may carry captured
   * arguments, and the process umask (often 022) would let every local user read them. An existing
   * file keeps the mode its owner gave it.
   */
  public static LogSink file(String path) throws IOException {
    Path file = Path.of(path);
    Set<StandardOpenOption> options =
        Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    OutputStream os;
    try {
      os = Channels.newOutputStream(Files.newByteChannel(file, options, OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      os =
          Files.newOutputStream(
              file, options.toArray(new StandardOpenOption[0])); // no POSIX permissions here
    }
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
    String line = event.toJson();
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
