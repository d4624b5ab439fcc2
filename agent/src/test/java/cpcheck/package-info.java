/**
 * Small classes for {@code validate --classpath} tests (dev.firebreak.cli.ClasspathCheckTest): only
 * their class files are read, they are never loaded by the check.
 */
package cpcheck;
