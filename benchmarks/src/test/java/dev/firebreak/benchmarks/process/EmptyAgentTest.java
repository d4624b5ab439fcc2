package dev.firebreak.benchmarks.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two floor agents the start-up harnesses write: each starts a JVM and leaves it quiet. */
class EmptyAgentTest {
  @TempDir Path dir;

  @Test
  void theEmptyAgentStartsAJvm() throws Exception {
    Path jar = EmptyAgent.writeJar(dir.resolve("empty-agent.jar"));
    assertThat(manifest(jar, "Premain-Class")).isEqualTo(EmptyAgent.class.getName());
    assertThat(manifest(jar, "Can-Retransform-Classes")).isNull();
    assertThat(javaVersionWith(jar)).isEmpty();
  }

  @Test
  void theEmptyTransformerRegistersARetransformCapableTransformer() throws Exception {
    // without Can-Retransform-Classes in the manifest, addTransformer(t, true) throws in premain
    // and the JVM aborts: a clean start proves the transformer is registered as the agent's is
    Path jar = EmptyAgent.writeTransformerJar(dir.resolve("empty-transformer.jar"));
    assertThat(manifest(jar, "Premain-Class"))
        .isEqualTo(EmptyAgent.EmptyTransformer.class.getName());
    assertThat(manifest(jar, "Can-Retransform-Classes")).isEqualTo("true");
    assertThat(javaVersionWith(jar)).isEmpty();
  }

  private static String manifest(Path jar, String name) throws IOException {
    try (JarFile f = new JarFile(jar.toFile())) {
      return f.getManifest().getMainAttributes().getValue(name);
    }
  }

  /**
   * Runs {@code java -javaagent:jar -version}; the lines of its stderr that are not the version.
   */
  private List<String> javaVersionWith(Path jar) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path err = dir.resolve(jar.getFileName() + ".err");
    Process p =
        new ProcessBuilder(java.toString(), "-javaagent:" + jar, "-version")
            .redirectError(err.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    List<String> lines = Files.readAllLines(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
    return lines.stream()
        .filter(l -> !l.contains("version") && !l.contains("Runtime Environment"))
        .filter(l -> !l.contains("Server VM"))
        .toList();
  }
}
