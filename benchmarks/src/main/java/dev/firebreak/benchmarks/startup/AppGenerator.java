package dev.firebreak.benchmarks.startup;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Generates, compiles and jars the application StartupAtScale starts: {@code classes} small classes
 * spread over up to 100 packages under {@code startup.app}, plus {@code startup.app.Main}, which
 * loads and initialises every one of them and then calls {@code hot()} once on each of the ten
 * "hot" classes. Cached in {@code <root>/classes-<N>/}; rebuilt only when missing or made by
 * another version of this generator. The sources stay in {@code src/} for reading; the class files
 * are only in {@code app.jar}.
 *
 * <p>Layout for N classes: P = clamp(N / 20, 10, 100) packages {@code startup.app.p000 ...}, class
 * i (0 &le; i &lt; N) in package {@code i / ceil(N / P)}, named {@code C%05d}; except the ten
 * classes i = j * (N / 10) + N / 20 (j = 0..9), named {@code Hot<j>}, one per package, each with a
 * {@code public static int hot()} that returns {@code 42 + j} (never 0, the int default).
 */
final class AppGenerator {
  /** Bump when the generated code or layout changes: a cached app of another version is rebuilt. */
  static final String VERSION = "startup-app-7";

  static final int HOT_CLASSES = 10;
  static final int MIN_CLASSES = 200;
  static final int MAX_CLASSES = 99_999;
  private static final int BATCH = 2_500;

  final int classes;
  final int packages;
  final int perPackage;
  final int[] hotIndex = new int[HOT_CLASSES];
  final Path dir;

  AppGenerator(Path root, int classes) {
    if (classes < MIN_CLASSES || classes > MAX_CLASSES) {
      throw new IllegalArgumentException(
          "--classes must be between " + MIN_CLASSES + " and " + MAX_CLASSES);
    }
    this.classes = classes;
    this.packages = Math.max(10, Math.min(100, classes / 20));
    this.perPackage = (classes + packages - 1) / packages;
    for (int j = 0; j < HOT_CLASSES; j++) {
      hotIndex[j] = j * (classes / HOT_CLASSES) + classes / (2 * HOT_CLASSES);
    }
    this.dir = root.resolve("classes-" + classes);
  }

  Path jar() {
    return dir.resolve("app.jar");
  }

  Path rules(String config) {
    return dir.resolve(config + ".yaml");
  }

  static String pkg(int p) {
    return String.format(Locale.ROOT, "p%03d", p);
  }

  int hotOf(int i) {
    for (int j = 0; j < HOT_CLASSES; j++) {
      if (hotIndex[j] == i) {
        return j;
      }
    }
    return -1;
  }

  String simpleName(int i) {
    int h = hotOf(i);
    return h >= 0 ? "Hot" + h : String.format(Locale.ROOT, "C%05d", i);
  }

  String packageOf(int i) {
    return "startup.app." + pkg(i / perPackage);
  }

  /** Generates and builds the app unless an up-to-date copy is cached. Returns true if it built. */
  boolean ensure(boolean force) throws IOException {
    Path stamp = dir.resolve("generated.txt");
    String expected = stampText();
    if (!force
        && Files.isRegularFile(stamp)
        && Files.isRegularFile(jar())
        && Files.readString(stamp).equals(expected)) {
      writeRules(); // cheap, and keeps the rules in step with this harness
      return false;
    }
    long t0 = System.nanoTime();
    deleteTree(dir);
    Path src = dir.resolve("src");
    Path out = dir.resolve("classes");
    Files.createDirectories(out);
    List<List<Path>> batches = new ArrayList<>();
    List<Path> batch = new ArrayList<>();
    for (int i = 0; i < classes; i++) {
      batch.add(writeClass(src, i));
      if (batch.size() == BATCH) {
        batches.add(batch);
        batch = new ArrayList<>();
      }
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    Path main = writeMain(src);
    log("generated %d sources in %s (%.1f s)", classes + 1, src, (System.nanoTime() - t0) / 1e9);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException(
          "no Java compiler in this runtime ("
              + System.getProperty("java.home")
              + "): run the harness with a JDK's java");
    }
    int n = 0;
    for (List<Path> b : batches) {
      compile(javac, b, out);
      n += b.size();
      log("compiled %d / %d classes (%.1f s)", n, classes, (System.nanoTime() - t0) / 1e9);
    }
    compile(javac, List.of(main), out);
    writeJar(out, jar());
    deleteTree(out); // the jar has them; src/ stays for reading
    writeRules();
    Files.writeString(stamp, expected);
    log("built %s (%d bytes) in %.1f s", jar(), Files.size(jar()), (System.nanoTime() - t0) / 1e9);
    return true;
  }

  private String stampText() {
    return VERSION
        + " classes="
        + classes
        + " packages="
        + packages
        + " java="
        + System.getProperty("java.version")
        + "\n";
  }

  private static void compile(JavaCompiler javac, List<Path> files, Path out) {
    try (StandardJavaFileManager fm =
        javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8)) {
      Iterable<? extends JavaFileObject> units = fm.getJavaFileObjectsFromPaths(files);
      List<String> options =
          List.of(
              "--release",
              "17",
              "-proc:none",
              "-implicit:none",
              "-nowarn",
              "-encoding",
              "UTF-8",
              "-d",
              out.toString(),
              "-cp",
              out.toString());
      Boolean ok = javac.getTask(null, fm, null, options, null, units).call();
      if (!Boolean.TRUE.equals(ok)) {
        throw new IllegalStateException(
            "javac failed on a batch of " + files.size() + " generated sources");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * One small, ordinary class (about 1.2 KB with javac's default debug info): a static initialiser,
   * instance fields, a constructor, getters, a method with a loop. Nothing in it runs except the
   * static initialiser (and {@code hot()} of the ten hot classes).
   */
  private Path writeClass(Path src, int i) throws IOException {
    String pkg = packageOf(i);
    String name = simpleName(i);
    int hot = hotOf(i);
    StringBuilder s = new StringBuilder(2048);
    s.append("package ").append(pkg).append(";\n\n");
    s.append("import java.util.ArrayList;\nimport java.util.List;\n\n");
    s.append("/** Generated by dev.firebreak.benchmarks.startup.AppGenerator (")
        .append(VERSION)
        .append("). */\n");
    s.append("public final class ").append(name).append(" {\n");
    s.append("  public static final String ID = \"")
        .append(pkg)
        .append('.')
        .append(name)
        .append("\";\n");
    s.append("  private static final List<String> TAGS = new ArrayList<>();\n");
    s.append("  private static int created;\n\n");
    s.append("  static {\n    TAGS.add(ID);\n    created = ").append(i % 7).append(";\n  }\n\n");
    s.append("  private final int seed;\n  private long total;\n");
    s.append("  private final List<Integer> values = new ArrayList<>();\n\n");
    s.append("  public ")
        .append(name)
        .append("(int seed) {\n    this.seed = seed;\n    created++;\n  }\n\n");
    s.append("  public int seed() {\n    return seed;\n  }\n\n");
    s.append("  public long total() {\n    return total;\n  }\n\n");
    s.append("  public long accumulate(int n) {\n    long t = total;\n")
        .append("    for (int k = 0; k < n; k++) {\n      t += ((long) k * ")
        .append(1_000 + i)
        .append(") ^ seed;\n")
        .append("      values.add(k);\n    }\n    total = t;\n    return t;\n  }\n\n");
    s.append(
        "  public int checksum() {\n    return 31 * seed + values.size() ^ TAGS.size() ^ created;\n  }\n");
    if (hot >= 0) {
      s.append(
          "\n  /** Called once by Main; the match-10 rules short-circuit it to the int default, 0. */\n");
      s.append("  public static int hot() {\n    return ").append(42 + hot).append(";\n  }\n");
    }
    s.append("}\n");
    Path file = src.resolve(pkg.replace('.', '/')).resolve(name + ".java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, s);
    return file;
  }

  /**
   * Main: no lambdas or string concatenation (no invokedynamic bootstrap in the measured part), the
   * class names built with a StringBuilder from the same layout formula as above.
   */
  private Path writeMain(Path src) throws IOException {
    StringBuilder hotList = new StringBuilder();
    StringBuilder hotCalls = new StringBuilder();
    for (int j = 0; j < HOT_CLASSES; j++) {
      hotList.append(j == 0 ? "" : ", ").append(hotIndex[j]);
      hotCalls
          .append("    if (")
          .append(packageOf(hotIndex[j]))
          .append(".Hot")
          .append(j)
          .append(".hot() == 0) {\n      defaults++;\n    }\n");
    }
    String text =
        MAIN_TEMPLATE
            .replace("@VERSION@", VERSION)
            .replace("@CLASSES@", Integer.toString(classes))
            .replace("@PER_PACKAGE@", Integer.toString(perPackage))
            .replace("@HOT_INDEX@", hotList.toString())
            .replace("@HOT_CALLS@", hotCalls.toString())
            .replace(
                "@HOT_CALLS_AFTER@", hotCalls.toString().replace("defaults++", "defaultsAfter++"));
    Path file = src.resolve("startup/app/Main.java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  private static final String MAIN_TEMPLATE =
      String.join(
          "\n",
          "package startup.app;",
          "",
          "import java.time.Instant;",
          "import java.util.TreeSet;",
          "",
          "/**",
          " * Generated by dev.firebreak.benchmarks.startup.AppGenerator (@VERSION@). Loads and initialises",
          " * every generated class, calls the ten hot() methods once, takes the end-of-startup time, and",
          " * only then (not counted) waits for the agent's firebreak.timing.* properties. Prints one JSON line.",
          " */",
          "public final class Main {",
          "  private static final int CLASSES = @CLASSES@;",
          "  private static final int PER_PACKAGE = @PER_PACKAGE@;",
          "  private static final int[] HOT_INDEX = {@HOT_INDEX@};",
          "  private static final String[] TIMING = {",
          "    \"premain.ms\", \"yield.ms\", \"ready.ms\", \"instrumented.ms\", \"weaver.ms\", \"match.classes\", \"match.ms\",",
          "    \"transform.classes\", \"transform.ms\", \"catchup.classes\", \"catchup.ms\"",
          "  };",
          "",
          "  public static void main(String[] args) throws Exception {",
          "    long mainNanos = System.nanoTime();",
          "    long mainEpoch = epochNanos(Instant.now());",
          "    ClassLoader loader = Main.class.getClassLoader();",
          "    StringBuilder name = new StringBuilder(48);",
          "    int loaded = 0;",
          "    for (int i = 0; i < CLASSES; i++) {",
          "      name.setLength(0);",
          "      name.append(\"startup.app.p\");",
          "      pad(name, i / PER_PACKAGE, 3);",
          "      name.append('.');",
          "      int hot = hotOf(i);",
          "      if (hot >= 0) {",
          "        name.append(\"Hot\").append(hot);",
          "      } else {",
          "        name.append('C');",
          "        pad(name, i, 5);",
          "      }",
          "      Class.forName(name.toString(), true, loader);",
          "      loaded++;",
          "    }",
          "    long loadedNanos = System.nanoTime();",
          "    int defaults = 0;",
          "@HOT_CALLS@",
          "    long endEpoch = epochNanos(Instant.now());",
          "    long endNanos = System.nanoTime();",
          "    // ---- startup is measured; nothing below counts in it ----",
          "    Double startCpuMs = cpuMs();",
          "    String launch = System.getProperty(\"startup.launchEpochNanos\");",
          "    long launchEpoch = launch == null ? -1 : Long.parseLong(launch);",
          "    boolean agent = Boolean.getBoolean(\"startup.agent\") || System.getProperty(\"firebreak.status\") != null;",
          "    long waitLimitMs = Long.getLong(\"startup.timingWaitMs\", 5000L);",
          "    long waitStart = System.nanoTime();",
          "    if (agent) {",
          "      long deadline = waitStart + waitLimitMs * 1_000_000L;",
          "      long statusSince = -1;",
          "      while (true) {",
          "        // the agent is ready (it publishes ready.ms then); the evaluator republishes the",
          "        // counters about once a second, so one more round covers the classes loaded since",
          "        if (System.getProperty(\"firebreak.timing.ready.ms\") != null) {",
          "          Thread.sleep(1200);",
          "          break;",
          "        }",
          "        long now = System.nanoTime();",
          "        if (now >= deadline) {",
          "          break;",
          "        }",
          "        // an agent without timing properties: give up 2 s after it reported itself running",
          "        if (System.getProperty(\"firebreak.status\") != null && !hasTiming()) {",
          "          if (statusSince < 0) {",
          "            statusSince = now;",
          "          } else if (now - statusSince > 2_000_000_000L) {",
          "            break;",
          "          }",
          "        }",
          "        Thread.sleep(20);",
          "      }",
          "    }",
          "    long waitNanos = System.nanoTime() - waitStart;",
          "    // the same calls once the agent is ready: with startup=background it instruments after the start",
          "    int defaultsAfter = 0;",
          "@HOT_CALLS_AFTER@",
          "    StringBuilder out = new StringBuilder(1024);",
          "    out.append('{');",
          "    str(out, \"config\", System.getProperty(\"startup.config\"));",
          "    num(out, \"classes\", CLASSES);",
          "    num(out, \"loaded\", loaded);",
          "    num(out, \"hotCalls\", HOT_INDEX.length);",
          "    num(out, \"hotDefaults\", defaults);",
          "    num(out, \"hotDefaultsAfterReady\", defaultsAfter);",
          "    ms(out, \"startupMs\", launchEpoch < 0 ? null : Double.valueOf((endEpoch - launchEpoch) / 1e6));",
          "    ms(out, \"toMainMs\", launchEpoch < 0 ? null : Double.valueOf((mainEpoch - launchEpoch) / 1e6));",
          "    ms(out, \"loadMs\", Double.valueOf((loadedNanos - mainNanos) / 1e6));",
          "    ms(out, \"hotCallsMs\", Double.valueOf((endNanos - loadedNanos) / 1e6));",
          "    ms(out, \"mainMs\", Double.valueOf((endNanos - mainNanos) / 1e6));",
          "    ms(out, \"startCpuMs\", startCpuMs);",
          "    out.append(\"\\\"agent\\\":\").append(agent).append(',');",
          "    str(out, \"firebreakStatus\", System.getProperty(\"firebreak.status\"));",
          "    ms(out, \"timingWaitMs\", Double.valueOf(waitNanos / 1e6));",
          "    out.append(\"\\\"timing\\\":{\");",
          "    TreeSet<String> keys = new TreeSet<>();",
          "    for (String k : TIMING) {",
          "      keys.add(\"firebreak.timing.\" + k);",
          "    }",
          "    for (String k : System.getProperties().stringPropertyNames()) {",
          "      if (k.startsWith(\"firebreak.timing.\")) {",
          "        keys.add(k);",
          "      }",
          "    }",
          "    boolean first = true;",
          "    for (String k : keys) {",
          "      if (!first) {",
          "        out.append(',');",
          "      }",
          "      first = false;",
          "      String v = System.getProperty(k);",
          "      out.append('\"').append(escape(k.substring(\"firebreak.timing.\".length()))).append(\"\\\":\");",
          "      if (v == null) {",
          "        out.append(\"null\");",
          "      } else if (isNumber(v.trim())) {",
          "        out.append(v.trim());",
          "      } else {",
          "        out.append('\"').append(escape(v)).append('\"');",
          "      }",
          "    }",
          "    out.append(\"}}\");",
          "    System.out.println(out);",
          "    System.out.flush();",
          "    System.exit(0);",
          "  }",
          "",
          "  private static int hotOf(int i) {",
          "    for (int j = 0; j < HOT_INDEX.length; j++) {",
          "      if (HOT_INDEX[j] == i) {",
          "        return j;",
          "      }",
          "    }",
          "    return -1;",
          "  }",
          "",
          "  private static void pad(StringBuilder sb, int v, int width) {",
          "    String s = Integer.toString(v);",
          "    for (int k = s.length(); k < width; k++) {",
          "      sb.append('0');",
          "    }",
          "    sb.append(s);",
          "  }",
          "",
          "  private static long epochNanos(Instant t) {",
          "    return t.getEpochSecond() * 1_000_000_000L + t.getNano();",
          "  }",
          "",
          "  /** The CPU time of the whole process so far (user + system, every thread, dead ones too), or null off Linux. */",
          "  private static Double cpuMs() {",
          "    try (java.io.FileInputStream in = new java.io.FileInputStream(\"/proc/self/stat\")) {",
          "      String stat = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);",
          "      // after the command's closing parenthesis: state is field 3, utime 14, stime 15 (clock ticks of 10 ms)",
          "      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(\" \");",
          "      return Double.valueOf((Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0);",
          "    } catch (Exception e) {",
          "      return null;",
          "    }",
          "  }",
          "",
          "  private static boolean hasTiming() {",
          "    for (String k : TIMING) {",
          "      if (System.getProperty(\"firebreak.timing.\" + k) != null) {",
          "        return true;",
          "      }",
          "    }",
          "    return false;",
          "  }",
          "",
          "  private static long parseLong(String s) {",
          "    try {",
          "      return (long) Double.parseDouble(s.trim());",
          "    } catch (NumberFormatException e) {",
          "      return -1;",
          "    }",
          "  }",
          "",
          "  private static boolean isNumber(String s) {",
          "    if (s.isEmpty()) {",
          "      return false;",
          "    }",
          "    try {",
          "      double d = Double.parseDouble(s);",
          "      return !Double.isNaN(d) && !Double.isInfinite(d) && s.matches(\"-?[0-9]+(\\\\.[0-9]+)?([eE][-+]?[0-9]+)?\");",
          "    } catch (NumberFormatException e) {",
          "      return false;",
          "    }",
          "  }",
          "",
          "  private static void str(StringBuilder out, String key, String value) {",
          "    out.append('\"').append(key).append(\"\\\":\");",
          "    if (value == null) {",
          "      out.append(\"null\");",
          "    } else {",
          "      out.append('\"').append(escape(value)).append('\"');",
          "    }",
          "    out.append(',');",
          "  }",
          "",
          "  private static void num(StringBuilder out, String key, long value) {",
          "    out.append('\"').append(key).append(\"\\\":\").append(value).append(',');",
          "  }",
          "",
          "  private static void ms(StringBuilder out, String key, Double value) {",
          "    out.append('\"').append(key).append(\"\\\":\");",
          "    if (value == null) {",
          "      out.append(\"null\");",
          "    } else {",
          "      out.append(Math.round(value.doubleValue() * 1000) / 1000.0);",
          "    }",
          "    out.append(',');",
          "  }",
          "",
          "  private static String escape(String s) {",
          "    StringBuilder b = new StringBuilder(s.length() + 8);",
          "    for (int i = 0; i < s.length(); i++) {",
          "      char c = s.charAt(i);",
          "      if (c == '\"' || c == '\\\\') {",
          "        b.append('\\\\').append(c);",
          "      } else if (c < 0x20) {",
          "        b.append(' ');",
          "      } else {",
          "        b.append(c);",
          "      }",
          "    }",
          "    return b.toString();",
          "  }",
          "}",
          "");

  /**
   * The two agent configurations, same shape: ten targets, target j with class glob {@code
   * <base>.pNNN.Hot*} (NNN: the package of Hot j) and method glob {@code hot*} with {@code leaves:
   * true} ({@code hot()} is a leaf, which a method glob leaves out by default), forced open with
   * fallback return-default, one depth rule. match-10 uses base {@code startup.app} (each glob
   * matches exactly one class); match-0 uses {@code startup.absent}, a package that does not exist.
   */
  void writeRules() throws IOException {
    Files.createDirectories(dir);
    Files.writeString(rules("match-10"), rulesText("match-10", "startup.app"));
    Files.writeString(rules("match-0"), rulesText("match-0", "startup.absent"));
  }

  private String rulesText(String config, String base) {
    StringBuilder y = new StringBuilder();
    y.append("# Generated by dev.firebreak.benchmarks.startup.StartupAtScale (")
        .append(VERSION)
        .append("): ")
        .append(config)
        .append(".\n");
    y.append("# Ten targets of the same shape; ")
        .append(
            base.equals("startup.app")
                ? "each class glob matches exactly one generated class (Hot<j>)."
                : "the package startup.absent does not exist, so no class matches.")
        .append("\n");
    y.append("version: 1\nmetrics: {port: 0}\nalerts: {log: off}\ntargets:\n");
    for (int j = 0; j < HOT_CLASSES; j++) {
      String p = pkg(hotIndex[j] / perPackage);
      y.append("  - name: hot-").append(j).append('\n');
      y.append("    class: \"").append(base).append('.').append(p).append(".Hot*\"\n");
      y.append("    method: \"hot*\"\n");
      // hot() is a leaf (no call, no loop): a method glob leaves it out unless asked
      y.append("    leaves: true\n");
      y.append("    force: open\n");
      y.append("    fallback: return-default\n");
      y.append("    rules:\n");
      y.append("      - {name: hot-").append(j).append("-depth, depth: 1000, action: alert}\n");
    }
    return y.toString();
  }

  private static void writeJar(Path classesDir, Path jar) throws IOException {
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "startup.app.Main");
    List<Path> all;
    try (Stream<Path> s = Files.walk(classesDir)) {
      all =
          s.filter(p -> !p.equals(classesDir))
              .sorted(Comparator.comparing(Path::toString))
              .collect(Collectors.toList());
    }
    Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
    try (OutputStream fo = Files.newOutputStream(tmp);
        JarOutputStream jo = new JarOutputStream(fo, mf)) {
      for (Path p : all) {
        String entry = classesDir.relativize(p).toString().replace('\\', '/');
        if (Files.isDirectory(p)) {
          jo.putNextEntry(new JarEntry(entry + "/"));
        } else {
          jo.putNextEntry(new JarEntry(entry));
          Files.copy(p, jo);
        }
        jo.closeEntry();
      }
    }
    Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.delete(q);
      }
    }
  }

  /**
   * Count and total size of the generated class files in the jar (Main excluded), for the report.
   */
  long[] classFileStats() throws IOException {
    long n = 0;
    long bytes = 0;
    try (JarFile jf = new JarFile(jar().toFile())) {
      for (JarEntry e : Collections.list(jf.entries())) {
        if (e.getName().endsWith(".class") && !e.getName().equals("startup/app/Main.class")) {
          n++;
          bytes += e.getSize();
        }
      }
    }
    return new long[] {n, bytes};
  }

  private static void log(String fmt, Object... args) {
    System.err.println("startup: " + String.format(Locale.ROOT, fmt, args));
  }
}
