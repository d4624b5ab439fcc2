package dev.firebreak.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** The agent jar is self-contained and every dependency is relocated under dev.firebreak.shaded. */
class JarContentsIT {

  @Test
  void everyEntryIsFirebreaksOwnOrMetadata() throws Exception {
    List<String> stray = new ArrayList<>();
    int classes = 0;
    try (JarFile jar = new JarFile(ChildJvm.agentJar().toFile())) {
      for (JarEntry e : java.util.Collections.list(jar.entries())) {
        String n = e.getName();
        if (n.endsWith(".class")) {
          classes++;
        }
        if (!(n.startsWith("dev/firebreak/") || n.equals("dev/") || n.startsWith("META-INF/"))) {
          stray.add(n);
        }
        if (n.startsWith("META-INF/")
            && n.endsWith(".class")
            && !n.startsWith("META-INF/versions/")) {
          stray.add(n);
        }
        if (n.startsWith("META-INF/versions/")
            && n.endsWith(".class")
            && !n.matches("META-INF/versions/\\d+/dev/firebreak/.*")) {
          stray.add(n);
        }
      }
      assertThat(stray).isEmpty();
      // premain extracts the bootstrap package by a fixed list of names: it must be complete
      List<String> bootstrap = new ArrayList<>();
      for (JarEntry e : java.util.Collections.list(jar.entries())) {
        if (e.getName().startsWith("dev/firebreak/bootstrap/") && e.getName().endsWith(".class")) {
          bootstrap.add(
              e.getName()
                  .substring(
                      "dev/firebreak/bootstrap/".length(),
                      e.getName().length() - ".class".length()));
        }
      }
      assertThat(bootstrap)
          .containsExactlyInAnyOrderElementsOf(
              dev.firebreak.agent.BootstrapInjectorAccess.classes());
      assertThat(classes).isGreaterThan(100);
      assertThat(jar.getEntry("dev/firebreak/shaded/net/bytebuddy/asm/Advice.class")).isNotNull();
      assertThat(jar.getEntry("dev/firebreak/shaded/org/HdrHistogram/Histogram.class")).isNotNull();
      assertThat(jar.getEntry("dev/firebreak/shaded/io/prometheus/client/Collector.class"))
          .isNotNull();
      assertThat(jar.getEntry("dev/firebreak/shaded/org/yaml/snakeyaml/Yaml.class")).isNotNull();
      Attributes main = jar.getManifest().getMainAttributes();
      assertThat(main.getValue("Premain-Class")).isEqualTo("dev.firebreak.agent.FirebreakAgent");
      assertThat(main.getValue("Agent-Class")).isEqualTo("dev.firebreak.agent.FirebreakAgent");
      assertThat(main.getValue("Main-Class")).isEqualTo("dev.firebreak.cli.Main");
      assertThat(main.getValue("Can-Retransform-Classes")).isEqualTo("true");
    }
  }
}
