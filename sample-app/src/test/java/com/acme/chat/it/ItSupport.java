package com.acme.chat.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Paths handed to the integration tests by the failsafe configuration. */
final class ItSupport {
  private ItSupport() {}

  /** The packaged service jar (child JVMs run it as {@code java -jar}). */
  static Path appJar() {
    String p = System.getProperty("sample.app.jar");
    if (p != null && Files.isRegularFile(Path.of(p))) return Path.of(p);
    return null; // child JVMs then use this JVM's class path
  }

  /**
   * The Firebreak agent jar. When it has not been built the test is skipped with the reason
   * printed, except on CI (environment variable CI set), where a missing agent is a failure.
   */
  static Path agentJarOrSkip() {
    String p = System.getProperty("firebreak.agent.jar", "../agent/target/firebreak-agent.jar");
    Path jar = Path.of(p).toAbsolutePath().normalize();
    if (Files.isRegularFile(jar)) return jar;
    String reason =
        "the Firebreak agent jar is missing at "
            + jar
            + " (build the agent module first: mvn -q -DskipTests package)";
    if (System.getenv("CI") != null) fail(reason + "; CI is set, so this is a failure, not a skip");
    System.out.println("SKIPPED: " + reason);
    Assumptions.assumeTrue(false, reason);
    return null;
  }

  static Path rules() {
    String p = System.getProperty("firebreak.rules", "../rules/emoji-pipeline.yaml");
    Path r = Path.of(p).toAbsolutePath().normalize();
    return Files.isRegularFile(r) ? r : null;
  }
}
