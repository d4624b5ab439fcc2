package dev.firebreak.benchmarks.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the numbers were taken on: CPU, clock source, JDK, load. */
final class Machine {
  private Machine() {}

  /** {@code lscpu}'s "Model name" (or /proc/cpuinfo's "model name" when lscpu is missing). */
  static String cpuModel() {
    String out = run(List.of("lscpu"));
    for (String line : out.split("\n")) {
      if (line.startsWith("Model name:")) return line.substring("Model name:".length()).trim();
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }

  static String clockSource() {
    return read("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  }

  static String loadAverage() {
    String s = read("/proc/loadavg");
    String[] f = s.split(" ");
    return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : s;
  }

  /** {@code java -version} of the launcher the children run on. */
  static String javaVersion(String java) {
    return run(List.of(java, "-version")).strip();
  }

  static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) d.update(buf, 0, n);
      return HexFormat.of().formatHex(d.digest());
    } catch (IOException | NoSuchAlgorithmException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
