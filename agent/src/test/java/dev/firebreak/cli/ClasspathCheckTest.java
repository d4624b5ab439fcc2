package dev.firebreak.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code validate --classpath}: the small classes of the test-only package {@code cpcheck} are
 * copied, as class files, into a directory and a jar of their own; the check reads them there.
 */
class ClasspathCheckTest {
  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @TempDir Path dir;
  Path classes;
  Path jar;

  @BeforeEach
  void classPath() throws Exception {
    Path testClasses = testClasses();
    classes = dir.resolve("classes");
    jar = dir.resolve("lib").resolve("cpcheck.jar");
    Files.createDirectories(jar.getParent());
    try (Stream<Path> files = Files.walk(testClasses.resolve("cpcheck"));
        JarOutputStream jarOut = new JarOutputStream(Files.newOutputStream(jar))) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        String rel = testClasses.relativize(p).toString().replace(File.separatorChar, '/');
        Path copy = classes.resolve(rel);
        Files.createDirectories(copy.getParent());
        Files.copy(p, copy);
        jarOut.putNextEntry(new JarEntry(rel));
        jarOut.write(Files.readAllBytes(p));
        jarOut.closeEntry();
      }
    }
  }

  static Path testClasses() throws URISyntaxException {
    Path renderer =
        Path.of(ClasspathCheckTest.class.getResource("/cpcheck/render/Renderer.class").toURI());
    return renderer.getParent().getParent().getParent();
  }

  private String out() {
    return outBytes.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  private Path rules(String targets) throws IOException {
    Path file = dir.resolve("rules.yaml");
    Files.writeString(file, "version: 1\ntargets:\n" + targets);
    return file;
  }

  private int validate(Path file, String... options) {
    List<String> args = new ArrayList<>(List.of(options));
    args.add(0, file.toString());
    return ValidateCommand.run(args, out, err);
  }

  @Test
  void targetsThatResolveAreValidWithTheirCountsInTheSummary() throws Exception {
    Path file =
        rules(
            """
          - {name: render, class: cpcheck.render.Renderer, method: "expand*", fallback: return-default, rules: []}
          - {name: shapes, class: cpcheck.render.Shape, subtypes: true, method: draw, rules: []}
        """);

    int code = validate(file, "--classpath", classes.toString());

    assertThat(err()).isEmpty();
    assertThat(out())
        .startsWith(file + ": valid (2 targets, 0 rules, sha256 ")
        .endsWith(
            "; on the class path: 3 classes, 4 methods)\n"); // expand, expandAll, Circle.draw,
    // FancyCircle.draw
    assertThat(code).as(out()).isZero();
  }

  @Test
  void aJarAndADirectoryOfJarsWorkLikeADirectory() throws Exception {
    Path file =
        rules(
            "  - {name: render, class: cpcheck.render.Renderer, method: count, fallback: return-default, rules: []}\n");

    assertThat(validate(file, "--classpath=" + jar)).as(out()).isZero();
    assertThat(validate(file, "-cp", jar.getParent() + File.separator + "*")).as(out()).isZero();
    assertThat(
            validate(
                file,
                "--classpath",
                dir.resolve("nowhere-empty") + File.pathSeparator + jar.toString()))
        .isEqualTo(2); // a missing entry is a usage error, not "matches nothing"
    assertThat(out().lines().filter(l -> l.contains(": valid (1 target, 0 rules"))).hasSize(2);
  }

  @Test
  void aTargetMatchingNoClassIsAnErrorAtTheTargetsPositionWithTheClassesOfTheSameName()
      throws Exception {
    Path file =
        rules(
            """
          - name: render
            class: cpcheck.Renderer
            rules: []
          - {name: nothing, class: "cpcheck.nothing.**", rules: []}
        """);

    int code = validate(file, "--classpath", classes.toString());

    assertThat(code).isEqualTo(1);
    assertThat(out().lines())
        .containsExactly(
            file
                + ":3:5: target 'render': class 'cpcheck.Renderer' matches no class on the class path"
                + " (did you mean cpcheck.other.Renderer or cpcheck.render.Renderer?)",
            file
                + ":6:5: target 'nothing': class 'cpcheck.nothing.**' matches no class on the class path");
  }

  @Test
  void aMethodGlobMatchingNoInstrumentableMethodIsAnError() throws Exception {
    Path file =
        rules(
            """
          - {name: render, class: cpcheck.render.Renderer, method: "render*", rules: []}
          - {name: widget, class: cpcheck.render.AbstractWidget, method: "*", rules: []}
          - {name: shape, class: cpcheck.render.Shape, method: draw, rules: []}
          - {name: typo, class: "cpcheck.render.*Circle", method: drow, rules: []}
        """);

    int code = validate(file, "--classpath", classes.toString());

    assertThat(code).isEqualTo(1);
    String never =
        " (abstract, native, bridge and synthetic methods and constructors are never instrumented)";
    assertThat(out().lines())
        .containsExactly(
            file
                + ":3:5: target 'render': method 'render*' matches no instrumentable method of the class cpcheck.render.Renderer"
                + never,
            file
                + ":4:5: target 'widget': method '*' matches no instrumentable method of the class cpcheck.render.AbstractWidget"
                + never,
            file
                + ":5:5: target 'shape': method 'draw' matches no instrumentable method of the class cpcheck.render.Shape"
                + never,
            file
                + ":6:5: target 'typo': method 'drow' matches no instrumentable method of the 2 classes cpcheck.render.Circle,"
                + " cpcheck.render.FancyCircle (did you mean 'draw'?)");
  }

  @Test
  void everyMethodAFallbackCannotServeIsReported() throws Exception {
    Path file =
        rules(
            """
          - {name: beyond, class: cpcheck.render.Renderer, method: expand, fallback: "return-arg:2", rules: []}
          - {name: wrong-prim, class: cpcheck.render.Renderer, method: expand, fallback: "return-arg:1", rules: []}
          - {name: supertype, class: cpcheck.render.Renderer, method: expandAll, fallback: "return-arg:0", rules: []}
          - {name: null-int, class: cpcheck.render.Renderer, method: "count", fallback: return-null, rules: []}
          - {name: void, class: cpcheck.render.Renderer, method: "reset", fallback: "return-value:x", rules: []}
          - {name: not-int, class: cpcheck.render.Renderer, method: "count", fallback: "return-value:many", rules: []}
          - {name: boxed, class: cpcheck.render.Renderer, method: "total", fallback: "return-arg:0", rules: []}
          - {name: all, class: cpcheck.render.Renderer, fallback: "return-arg:0", rules: []}
        """);

    int code = validate(file, "--classpath", classes.toString());

    assertThat(code).isEqualTo(1);
    String r = "cpcheck.render.Renderer.";
    assertThat(out().lines())
        .containsExactly(
            file
                + ":3:5: target 'beyond': "
                + r
                + "expand(String,int): fallback return-arg:2 is beyond the method's 2 parameter(s)",
            file
                + ":4:5: target 'wrong-prim': "
                + r
                + "expand(String,int): fallback return-arg:1 is a int, the method returns java.lang.String",
            file
                + ":5:5: target 'supertype': "
                + r
                + "expandAll(CharSequence): fallback return-arg:0 is a java.lang.CharSequence,"
                + " the method returns java.lang.String",
            file
                + ":6:5: target 'null-int': "
                + r
                + "count(String): fallback return-null cannot be returned by a method returning int",
            file
                + ":7:5: target 'void': "
                + r
                + "reset(): fallback return-value:x on a void method",
            file
                + ":8:5: target 'not-int': "
                + r
                + "count(String): return-value:many is not a valid int",
            // 'boxed' (return-arg:0 of total(long) returning Long) is fine
            file
                + ":10:5: target 'all': "
                + r
                + "expandAll(CharSequence): fallback return-arg:0 is a java.lang.CharSequence,"
                + " the method returns java.lang.String",
            file
                + ":10:5: target 'all': "
                + r
                + "count(String): fallback return-arg:0 is a java.lang.String, the method returns int",
            file + ":10:5: target 'all': " + r + "reset(): fallback return-arg:0 on a void method");
  }

  @Test
  void subtypesMatchImplementationsAndSubclassesButNotTheInterfaceItself() throws Exception {
    Path file =
        rules(
            """
          - {name: shapes, class: cpcheck.render.Shape, subtypes: true, method: "*", fallback: return-null, rules: []}
          - {name: circles, class: cpcheck.render.Circle, subtypes: true, method: draw, fallback: "return-arg:0", rules: []}
        """);

    int code = validate(file, "--classpath", classes.toString());

    // Shape.label (a default method) + Circle.draw + FancyCircle.draw; Circle.draw +
    // FancyCircle.draw
    assertThat(out()).endsWith("; on the class path: 3 classes, 5 methods)\n");
    assertThat(code).as(out()).isZero();
  }

  @Test
  void classFilesAreReadNeverLoaded() throws Exception {
    System.clearProperty("cpcheck.canary");
    Path file =
        rules(
            "  - {name: canary, class: cpcheck.render.Canary, fallback: return-arg:0, rules: []}\n");

    assertThat(validate(file, "--classpath", classes.toString())).as(out()).isZero();
    assertThat(System.getProperty("cpcheck.canary")).isNull();
  }

  @Test
  void aFileWithErrorsIsReportedAsWithoutAClassPathAndTheOthersAreStillChecked() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad, "version: 1\ntargets: [{name: x, class: cpcheck.Nope, rules: [], fallbak: throw}]\n");
    Path good = rules("  - {name: render, class: cpcheck.render.Renderer, rules: []}\n");

    int code =
        ValidateCommand.run(
            List.of("--classpath", classes.toString(), bad.toString(), good.toString()), out, err);

    assertThat(code).isEqualTo(1);
    assertThat(out().lines()).hasSize(2);
    assertThat(out().lines().findFirst().orElseThrow())
        .isEqualTo(bad + ":2:53: unknown key 'targets[0].fallbak' (did you mean 'fallback'?)");
    assertThat(out().lines().skip(1).findFirst().orElseThrow())
        .startsWith(good + ": valid (1 target, 0 rules");
  }

  @Test
  void wrongUsageExitsTwoWithAMessageOnStderr() throws Exception {
    Path file = rules("  - {name: render, class: cpcheck.render.Renderer, rules: []}\n");
    Path notAJar = dir.resolve("notes.txt");
    Files.writeString(notAJar, "not a jar");

    assertUsage(
        List.of(file.toString(), "--classpath"), "firebreak: validate: --classpath needs a value");
    assertUsage(
        List.of(file.toString(), "--classpath="), "firebreak: validate: --classpath needs a value");
    assertUsage(
        List.of(file.toString(), "--classpath", ""),
        "firebreak: validate: --classpath needs a value");
    assertUsage(
        List.of(file.toString(), "--classpath", File.pathSeparator),
        "firebreak: validate: --classpath needs a class path");
    assertUsage(
        List.of(file.toString(), "--classpath", "a", "--classpath", "b"),
        "firebreak: validate: --classpath given twice");
    assertUsage(
        List.of(file.toString(), "--class-paht", "a"),
        "firebreak: validate: unknown option '--class-paht'");
    assertUsage(
        List.of(file.toString(), "--classpath", dir.resolve("missing.jar").toString()),
        "firebreak: validate: class path entry '"
            + dir.resolve("missing.jar")
            + "': no such file or directory");
    assertUsage(
        List.of(file.toString(), "--classpath", notAJar.toString()),
        "firebreak: validate: class path entry '" + notAJar + "': not a jar file");
    assertUsage(
        List.of(file.toString(), "--classpath", dir.resolve("nodir") + File.separator + "*"),
        "firebreak: validate: class path entry '"
            + dir.resolve("nodir")
            + File.separator
            + "*': no such directory");
    assertUsage(List.of("--classpath", classes.toString()), "usage: ");
  }

  private void assertUsage(List<String> args, String message) {
    outBytes.reset();
    errBytes.reset();
    assertThat(ValidateCommand.run(args, out, err)).as(args.toString()).isEqualTo(2);
    assertThat(err()).as(args.toString()).startsWith(message).contains(ValidateCommand.USAGE_LINE);
    assertThat(out()).as(args.toString()).isEmpty();
  }

  @Test
  void optionsMayComeAnywhereAndDoubleDashEndsThem() throws Exception {
    Path file = rules("  - {name: render, class: cpcheck.render.Renderer, rules: []}\n");
    Path dashed = dir.resolve("-odd.yaml");
    Files.copy(file, dashed);

    int code =
        ValidateCommand.run(
            List.of("-cp", classes.toString(), file.toString(), "--", dashed.toString()), out, err);

    assertThat(code).as(out() + err()).isZero();
    assertThat(out().lines()).hasSize(2);
    assertThat(errBytes.size()).isZero();
  }

  @Test
  void helpPrintsTheUsageOnStdoutAndExitsZero() {
    assertThat(ValidateCommand.run(List.of("--help"), out, err)).isZero();
    assertThat(out()).startsWith(ValidateCommand.USAGE_LINE).contains("--classpath PATH");
  }
}
