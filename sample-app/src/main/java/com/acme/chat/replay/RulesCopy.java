package com.acme.chat.replay;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * A copy of the SRE's rules file (rules/emoji-pipeline.yaml) changed for one run: read as a YAML
 * mapping, changed where a run must (its metrics port, its alert log), written back.
 */
public final class RulesCopy {
  private RulesCopy() {}

  /** The text of {@code rules}, or of the copy inside the jar when null. */
  public static String read(Path rules) throws IOException {
    if (rules != null) return Files.readString(rules, StandardCharsets.UTF_8);
    try (InputStream in = RulesCopy.class.getResourceAsStream("/rules/emoji-pipeline.yaml")) {
      if (in == null)
        throw new IOException("no rules file: pass --rules rules/emoji-pipeline.yaml");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The file as a mutable mapping. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parse(String text) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  /**
   * Points {@code metrics} at 127.0.0.1:{@code metricsPort} and {@code alerts.log} at {@code
   * alertLog}, and drops the file's own Alertmanager and webhook: the rest is exactly what the SRE
   * wrote.
   */
  @SuppressWarnings("unchecked")
  public static void forRun(Map<String, Object> rules, Path alertLog, int metricsPort) {
    Map<String, Object> metrics =
        (Map<String, Object>) rules.computeIfAbsent("metrics", k -> new LinkedHashMap<>());
    metrics.put("host", "127.0.0.1");
    metrics.put("port", metricsPort);
    Map<String, Object> alerts =
        (Map<String, Object>) rules.computeIfAbsent("alerts", k -> new LinkedHashMap<>());
    alerts.put("log", alertLog.toAbsolutePath().toString());
    alerts.remove("alertmanager");
    alerts.remove("webhook");
  }

  /**
   * For the rollback loop: Firebreak posts its alert events to {@code webhook} (the service's
   * {@code /hooks/firebreak}) and opens its admin endpoints with {@code tokenFile}.
   */
  @SuppressWarnings("unchecked")
  public static void rollbackLoop(Map<String, Object> rules, String webhook, Path tokenFile) {
    Map<String, Object> alerts =
        (Map<String, Object>) rules.computeIfAbsent("alerts", k -> new LinkedHashMap<>());
    alerts.put("webhook", webhook);
    Map<String, Object> admin = new LinkedHashMap<>();
    admin.put("token-file", tokenFile.toAbsolutePath().toString());
    rules.put("admin", admin);
  }

  /**
   * A random admin token in a new file only its owner can read (the agent refuses one that others
   * may read).
   */
  public static Path writeAdminToken(Path file) throws IOException {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, HexFormat.of().formatHex(b) + "\n", StandardCharsets.UTF_8);
    return file;
  }

  /** The mapping as block-style YAML. */
  public static String dump(Map<String, Object> rules) {
    DumperOptions d = new DumperOptions();
    d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    d.setWidth(200);
    return new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(d), d).dump(rules);
  }
}
