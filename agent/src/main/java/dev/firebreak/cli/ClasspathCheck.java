package dev.firebreak.cli;

import dev.firebreak.instrument.Instrumenter;
import dev.firebreak.instrument.Signatures;
import dev.firebreak.instrument.Weaver;
import dev.firebreak.rules.Glob;
import dev.firebreak.rules.Position;
import dev.firebreak.rules.RuleError;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Target;
import dev.firebreak.rules.Text;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/**
 * {@code validate --classpath PATH}: resolves every target of a rules file against the classes on a
 * class path, the way the agent would match them at load time ({@link Instrumenter}), and reports
 * targets that match no class or no method, and methods the target's fallback cannot serve ({@link
 * Instrumenter#incompatibility}). Class files are read, never loaded: nothing from the class path
 * runs.
 */
final class ClasspathCheck implements Closeable {

  /** A class path that cannot be used: wrong usage, exit 2. */
  static final class BadClasspathException extends Exception {
    BadClasspathException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Packages the agent leaves alone unless a glob's literal prefix reaches into them; the agent's
   * own dev.firebreak is never instrumented.
   */
  private static final List<String> PROTECTED = dev.firebreak.instrument.ClassFilter.PROTECTED;

  private static final int MAX_LISTED = 3;

  private final List<String> classNames;
  private final List<Closeable> closeables;
  private final TypePool pool;

  private ClasspathCheck(
      List<String> classNames, List<Closeable> closeables, ClassFileLocator locator) {
    this.classNames = classNames;
    this.closeables = closeables;
    this.pool =
        new TypePool.Default.WithLazyResolution(
            new TypePool.CacheProvider.Simple(), locator, TypePool.Default.ReaderMode.FAST);
  }

  /**
   * Opens every entry of {@code classpath} (separated by {@link File#pathSeparator}): directories
   * of class files, jar files, and {@code DIR/*} for every jar in DIR, as {@code java -cp} does.
   */
  static ClasspathCheck open(String classpath) throws BadClasspathException {
    if (classpath == null || classpath.isBlank()) {
      throw new BadClasspathException(
          "--classpath needs a class path: jars and directories separated by '"
              + File.pathSeparator
              + "'");
    }
    List<Path> entries = new ArrayList<>();
    for (String part : classpath.split(java.util.regex.Pattern.quote(File.pathSeparator))) {
      if (part.isEmpty()) {
        continue;
      }
      if (part.equals("*") || part.endsWith(File.separator + "*") || part.endsWith("/*")) {
        Path dir =
            path(
                part.substring(0, part.length() - 1).isEmpty()
                    ? "."
                    : part.substring(0, part.length() - 1));
        if (!Files.isDirectory(dir)) {
          throw new BadClasspathException("class path entry '" + part + "': no such directory");
        }
        try (Stream<Path> files = Files.list(dir)) {
          files
              .filter(
                  p -> {
                    String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                    return n.endsWith(".jar") && Files.isRegularFile(p);
                  })
              .sorted()
              .forEach(entries::add);
        } catch (IOException | RuntimeException e) {
          throw new BadClasspathException(
              "class path entry '" + part + "': cannot list the directory: " + e.getMessage());
        }
      } else {
        entries.add(path(part));
      }
    }
    if (entries.isEmpty()) {
      throw new BadClasspathException(
          "--classpath needs a class path: jars and directories separated by '"
              + File.pathSeparator
              + "'");
    }
    List<Closeable> closeables = new ArrayList<>();
    List<ClassFileLocator> locators = new ArrayList<>();
    Set<String> names = new TreeSet<>();
    try {
      for (Path entry : entries) {
        if (Files.isDirectory(entry)) {
          listDirectory(entry, names);
          locators.add(new ClassFileLocator.ForFolder(entry.toFile()));
        } else if (Files.isRegularFile(entry)) {
          JarFile jar;
          try {
            jar = new JarFile(entry.toFile(), false);
          } catch (IOException | RuntimeException e) {
            throw new BadClasspathException(
                "class path entry '"
                    + entry
                    + "': not a jar file ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + ")");
          }
          closeables.add(jar);
          listJar(jar, names);
          locators.add(new ClassFileLocator.ForJarFile(jar));
        } else {
          throw new BadClasspathException(
              "class path entry '" + entry + "': no such file or directory");
        }
      }
    } catch (BadClasspathException e) {
      closeAll(closeables);
      throw e;
    }
    // the JDK's own classes, for supertypes and assignability (java.lang.Object, String, ...)
    locators.add(ClassFileLocator.ForClassLoader.ofPlatformLoader());
    return new ClasspathCheck(
        List.copyOf(names), closeables, new ClassFileLocator.Compound(locators));
  }

  private static Path path(String s) throws BadClasspathException {
    try {
      return Paths.get(s);
    } catch (RuntimeException e) {
      throw new BadClasspathException("class path entry '" + s + "': invalid path");
    }
  }

  private static void listDirectory(Path dir, Set<String> names) throws BadClasspathException {
    try (Stream<Path> files = Files.walk(dir)) {
      files
          .filter(
              p ->
                  p.getFileName() != null
                      && p.getFileName().toString().endsWith(".class")
                      && Files.isRegularFile(p))
          .forEach(
              p -> {
                Path rel = dir.relativize(p);
                if (rel.getNameCount() > 0 && rel.getName(0).toString().equals("META-INF")) {
                  return;
                }
                addClass(rel.toString().replace(File.separatorChar, '/'), names);
              });
    } catch (IOException | RuntimeException e) {
      throw new BadClasspathException(
          "class path entry '" + dir + "': cannot read the directory: " + e.getMessage());
    }
  }

  private static void listJar(JarFile jar, Set<String> names) {
    Enumeration<JarEntry> entries = jar.entries();
    while (entries.hasMoreElements()) {
      JarEntry e = entries.nextElement();
      if (!e.isDirectory() && !e.getName().startsWith("META-INF/")) {
        addClass(e.getName(), names);
      }
    }
  }

  private static void addClass(String resource, Set<String> names) {
    if (!resource.endsWith(".class")) {
      return;
    }
    String name = resource.substring(0, resource.length() - ".class".length());
    if (name.endsWith("module-info") || name.endsWith("package-info") || name.isEmpty()) {
      return;
    }
    names.add(name.replace('/', '.'));
  }

  /** How many classes the class path holds. */
  int classCount() {
    return classNames.size();
  }

  /**
   * What {@link #check} found: errors, warnings (nothing to fix in the rules), and totals for the
   * summary.
   */
  record Result(List<RuleError> errors, List<RuleError> warnings, int classes, int methods) {}

  /** Resolves every target of {@code rules}; errors carry the target's position. */
  Result check(RuleSet rules) {
    List<RuleError> errors = new ArrayList<>();
    List<RuleError> warnings = new ArrayList<>();
    Set<String> allClasses = new HashSet<>();
    int methods = 0;
    for (Target t : rules.targets()) {
      Position at = t.position();
      Glob classGlob = Glob.forClass(t.classGlob());
      Glob methodGlob = Glob.forMethod(t.methodGlob());
      List<TypeDescription> types = new ArrayList<>();
      for (String name : matchingClasses(t, classGlob)) {
        TypePool.Resolution r = pool.describe(name);
        if (!r.isResolved()) {
          warnings.add(
              error(
                  at,
                  "warning: target "
                      + quote(t.name())
                      + ": cannot read the class file of "
                      + name));
          continue;
        }
        types.add(r.resolve());
      }
      if (types.isEmpty()) {
        errors.add(
            error(
                at,
                "target "
                    + quote(t.name())
                    + ": class "
                    + quote(t.classGlob())
                    + (t.subtypes() ? " (with subtypes)" : "")
                    + " matches no class on the class path"
                    + similar(classGlob)));
        continue;
      }
      int matched = 0;
      Set<String> methodNames = new TreeSet<>();
      for (TypeDescription type : types) {
        int before = matched;
        List<MethodDescription.InDefinedShape> declared;
        try {
          declared = type.getDeclaredMethods();
        } catch (RuntimeException e) {
          warnings.add(
              error(
                  at,
                  "warning: target "
                      + quote(t.name())
                      + ": cannot read the methods of "
                      + type.getName()
                      + ": "
                      + describe(e)));
          continue;
        }
        for (MethodDescription m : declared) {
          if (!instrumentable(m)) {
            continue;
          }
          methodNames.add(m.getName());
          if (!methodGlob.matches(m.getName())) {
            continue;
          }
          matched++;
          String where = type.getName() + "." + label(m);
          String problem;
          try {
            problem =
                Signatures.incompatibility(
                    t,
                    m.getDescriptor(),
                    (from, to) -> {
                      TypeDescription f = pool.describe(from).resolve();
                      return f.isAssignableTo(pool.describe(to).resolve());
                    });
          } catch (RuntimeException e) {
            warnings.add(
                error(
                    at,
                    "warning: target "
                        + quote(t.name())
                        + ": "
                        + where
                        + ": cannot check the fallback "
                        + t.fallback()
                        + ": "
                        + describe(e)));
            continue;
          }
          if (problem != null) {
            errors.add(error(at, "target " + quote(t.name()) + ": " + where + ": " + problem));
          }
        }
        if (matched > before) {
          allClasses.add(type.getName());
        }
      }
      methods += matched;
      if (matched == 0) {
        errors.add(
            error(
                at,
                "target "
                    + quote(t.name())
                    + ": method "
                    + quote(t.methodGlob())
                    + " matches no instrumentable method of "
                    + classList(types)
                    + nearMethods(methodGlob, methodNames)));
      }
    }
    return new Result(errors, warnings, allClasses.size(), methods);
  }

  /**
   * Class names the agent would match for {@code t}: by name, and with subtypes by any supertype's
   * name.
   */
  private List<String> matchingClasses(Target t, Glob classGlob) {
    String prefix = classGlob.literalPrefix();
    List<String> out = new ArrayList<>();
    Map<String, Boolean> memo = new HashMap<>();
    for (String name : classNames) {
      if (ignored(name, prefix)) {
        continue;
      }
      if (classGlob.matches(name)) {
        out.add(name);
      } else if (t.subtypes() && extendsMatching(name, classGlob, memo, 0)) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * As the agent: a class below java., jdk., ... only when the glob's literal prefix names that
   * package.
   */
  private static boolean ignored(String name, String literalPrefix) {
    if (name.startsWith("dev.firebreak.")) {
      return true;
    }
    for (String p : PROTECTED) {
      if (name.startsWith(p)) {
        return !(literalPrefix.startsWith(p) && literalPrefix.length() > p.length());
      }
    }
    return false;
  }

  /**
   * True when a concrete class {@code name} has a superclass or interface (transitively) whose name
   * matches; interfaces themselves are not subtypes the agent instruments.
   */
  private boolean extendsMatching(String name, Glob glob, Map<String, Boolean> memo, int depth) {
    TypeDescription type = describeOrNull(name);
    if (type == null || type.isInterface()) {
      return false;
    }
    return superTypeMatches(type, glob, memo, depth);
  }

  private boolean superTypeMatches(
      TypeDescription type, Glob glob, Map<String, Boolean> memo, int depth) {
    if (depth > 200) {
      return false; // a cycle in broken class files
    }
    List<String> supers = new ArrayList<>();
    try {
      TypeDescription.Generic superClass = type.getSuperClass();
      if (superClass != null) {
        supers.add(superClass.asErasure().getName());
      }
      for (TypeDescription.Generic i : type.getInterfaces()) {
        supers.add(i.asErasure().getName());
      }
    } catch (RuntimeException e) {
      return false;
    }
    for (String s : supers) {
      Boolean known = memo.get(s);
      if (known == null) {
        known = glob.matches(s);
        if (!known) {
          TypeDescription st = describeOrNull(s);
          known = st != null && superTypeMatches(st, glob, memo, depth + 1);
        }
        memo.put(s, known);
      }
      if (known) {
        return true;
      }
    }
    return false;
  }

  private TypeDescription describeOrNull(String name) {
    try {
      TypePool.Resolution r = pool.describe(name);
      return r.isResolved() ? r.resolve() : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static boolean instrumentable(MethodDescription m) {
    try {
      return m.isMethod()
          && Weaver.selectable(m.getModifiers(), m.getInternalName())
          && !m.isBridge()
          && !m.isSynthetic();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static String label(MethodDescription m) {
    try {
      return Signatures.label(m.getName(), m.getDescriptor());
    } catch (RuntimeException e) {
      return m.getName() + m.getDescriptor();
    }
  }

  /** For a glob that matches nothing: classes with the same simple name elsewhere. */
  private String similar(Glob glob) {
    String text = glob.text();
    String simple = text.substring(text.lastIndexOf('.') + 1);
    if (simple.indexOf('*') >= 0 || simple.indexOf('?') >= 0) {
      return "";
    }
    List<String> same = new ArrayList<>();
    for (String name : classNames) {
      String s = name.substring(name.lastIndexOf('.') + 1);
      if (s.equals(simple)) {
        same.add(name);
      }
    }
    if (same.isEmpty()) {
      return "";
    }
    return " (did you mean "
        + String.join(" or ", same.subList(0, Math.min(MAX_LISTED, same.size())))
        + (same.size() > MAX_LISTED ? " or " + (same.size() - MAX_LISTED) + " more" : "")
        + "?)";
  }

  /** "did you mean" for a literal method glob, else what is never instrumented. */
  private static String nearMethods(Glob glob, Set<String> names) {
    if (glob.isLiteral()) {
      List<String> near = new ArrayList<>();
      for (String n : names) {
        if (Math.abs(n.length() - glob.text().length()) <= 2
            && Text.distance(n, glob.text()) <= 2) {
          near.add("'" + n + "'");
        }
      }
      if (!near.isEmpty()) {
        return " (did you mean "
            + String.join(" or ", near.subList(0, Math.min(MAX_LISTED, near.size())))
            + "?)";
      }
    }
    return " (abstract, native, bridge and synthetic methods and constructors are never instrumented)";
  }

  private static String classList(List<TypeDescription> types) {
    StringBuilder b =
        new StringBuilder(types.size() == 1 ? "the class " : "the " + types.size() + " classes ");
    for (int i = 0; i < types.size() && i < MAX_LISTED; i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(types.get(i).getName());
    }
    if (types.size() > MAX_LISTED) {
      b.append(", ...");
    }
    return b.toString();
  }

  private static String quote(String s) {
    return "'" + s + "'";
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.replaceAll("\\s+", " ");
  }

  private static RuleError error(Position at, String message) {
    return new RuleError(at.file(), at.line(), at.column(), message);
  }

  @Override
  public void close() {
    closeAll(closeables);
  }

  private static void closeAll(List<Closeable> closeables) {
    for (Closeable c : closeables) {
      try {
        c.close();
      } catch (IOException e) {
        // nothing to do: we only read
      }
    }
  }
}
