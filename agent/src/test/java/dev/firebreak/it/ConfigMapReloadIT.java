package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Hot reload of rules mounted from a Kubernetes ConfigMap (docs/kubernetes.md). The kubelet never
 * writes the mounted file: {@code rules.yaml} is a symbolic link to {@code ..data/rules.yaml},
 * {@code ..data} a link to a timestamped directory, and an update writes a new timestamped
 * directory, points {@code ..data_tmp} at it, renames {@code ..data_tmp} over {@code ..data} (one
 * atomic step) and deletes the old directory. The file's own link and its modification time never
 * change; only what it resolves to does.
 */
class ConfigMapReloadIT {
  private static final String JAVA = ChildJvm.javas().findFirst().orElseThrow();

  private static String rules(int port, String targets) {
    return "version: 1\n"
        + "metrics: {host: 127.0.0.1, port: "
        + port
        + "}\n"
        + "alerts: {log: off}\n"
        + "reload: {watch: true, interval: 200ms}\n"
        + "targets:"
        + (targets.isEmpty() ? " []\n" : "\n" + targets);
  }

  private static String emoji(int depth) {
    return "  - {name: emoji, class: testapp.Emoji, method: expand, fallback: return-arg:0,\n"
        + "     rules: [{name: emoji-recursion, depth: "
        + depth
        + ", action: limit}]}\n";
  }

  private static String sha(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The volume as the kubelet lays it out: {@code rules.yaml -> ..data/rules.yaml}, {@code ..data
   * -> ..STAMP}.
   */
  private static Path mount(Path volume, String stamp, String content) throws IOException {
    Path data = Files.createDirectory(volume.resolve(stamp));
    Files.writeString(data.resolve("rules.yaml"), content, StandardCharsets.UTF_8);
    Files.createSymbolicLink(volume.resolve("..data"), Path.of(stamp));
    return Files.createSymbolicLink(volume.resolve("rules.yaml"), Path.of("..data", "rules.yaml"));
  }

  /**
   * A ConfigMap update as the kubelet makes it: new directory, atomic swap of {@code ..data}, old
   * directory gone.
   */
  private static void update(Path volume, String stamp, String content) throws IOException {
    Path old = volume.resolve(Files.readSymbolicLink(volume.resolve("..data")));
    Path data = Files.createDirectory(volume.resolve(stamp));
    Files.writeString(data.resolve("rules.yaml"), content, StandardCharsets.UTF_8);
    Path tmp = Files.createSymbolicLink(volume.resolve("..data_tmp"), Path.of(stamp));
    Files.move(
        tmp,
        volume.resolve("..data"),
        StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces the link
    try (Stream<Path> files = Files.walk(old)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static double reloads(ChildJvm app, int port, String result) {
    return ChildJvm.sample(
        app.metrics(port), "firebreak_rules_reloads_total", Map.of("result", result));
  }

  private static double rulesInForce(ChildJvm app, int port, String content) throws Exception {
    return ChildJvm.sample(
        app.metrics(port), "firebreak_rules_info", Map.of("sha256", sha(content)));
  }

  @Test
  void aConfigMapUpdateSwappingTheDataLinkIsReloaded() throws Exception {
    int port = ChildJvm.freePort();
    Path volume = Files.createTempDirectory("firebreak-configmap");
    String first = rules(port, emoji(16));
    Path file = mount(volume, "..2026_11_24_10_00_00.000000001", first);
    try (ChildJvm app = ChildJvm.start(JAVA, "rules=" + file, "plain")) {
      app.awaitLine("READY");
      assertThat(app.once()).isEqualTo("fallback");
      assertThat(rulesInForce(app, port, first)).isEqualTo(1);

      // an update that drops the target: the original bytecode is back
      String second = rules(port, "");
      update(volume, "..2026_11_24_10_05_00.000000002", second);
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 1);
      assertThat(rulesInForce(app, port, second)).isEqualTo(1);
      assertThat(app.once()).isEqualTo("overflow");

      // and the next one brings it back: every swap is seen, not only the first
      String third = rules(port, emoji(20));
      update(volume, "..2026_11_24_10_10_00.000000003", third);
      await().atMost(ChildJvm.TIMEOUT).until(() -> reloads(app, port, "success") == 2);
      assertThat(rulesInForce(app, port, third)).isEqualTo(1);
      assertThat(app.once()).isEqualTo("fallback");

      // the swap is atomic: the agent never saw a missing or half-written file
      assertThat(reloads(app, port, "failure")).isZero();
      assertThat(app.stderr())
          .contains("firebreak: rules reloaded from " + file)
          .doesNotContain("reload failed");
    }
  }
}
