package dev.firebreak.secrets;

import dev.firebreak.errors.AgentErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.Set;

/**
 * A secret kept in a small file: the admin endpoints' bearer token, the basic-auth password of
 * {@code /metrics}. The file is read again at every use, so a rotated secret is in force from the
 * next request on and the old one is refused (no cache to go stale, whatever the file system's
 * timestamp resolution). A file that group or others may read or write is refused, as ssh refuses
 * such a key. Surrounding whitespace (the newline an editor adds) is not part of the secret.
 *
 * <p>Problems are reported once each, as one {@code firebreak:} line counted under {@code kind},
 * not once per request; so is the file becoming usable again. Thread-safe: {@link #digest} is
 * synchronized, and reads at most {@value #MAX_BYTES} bytes.
 */
public final class SecretFile {
  public static final int MAX_BYTES = 4096;
  private static final Set<PosixFilePermission> GROUP_OR_OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  private final Path path;
  private final String what;
  private final String kind;
  private final String consequence;

  /** The last problem reported; null when the last read worked. Guarded by this. */
  private String lastProblem;

  /**
   * @param what the file's role in messages ("admin token file")
   * @param kind the {@code firebreak_agent_errors_total} kind
   * @param consequence what happens while the file cannot be used ("the admin endpoints stay off")
   */
  public SecretFile(String path, String what, String kind, String consequence) {
    this.path = Path.of(path);
    this.what = what;
    this.kind = kind;
    this.consequence = consequence;
  }

  public Path path() {
    return path;
  }

  /** sha256 of the secret, or null when the file cannot be used (reported once). */
  public byte[] digest() {
    return digest("");
  }

  /** sha256 of {@code prefix} followed by the secret (basic auth: {@code "user:"}), or null. */
  public synchronized byte[] digest(String prefix) {
    String problem;
    byte[] digest = null;
    try {
      byte[] secret = read(path);
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(prefix.getBytes(StandardCharsets.UTF_8));
      digest = md.digest(secret);
      problem = null;
    } catch (Problem p) {
      problem = p.getMessage();
    } catch (IOException | RuntimeException | NoSuchAlgorithmException e) {
      problem = "cannot be read (" + AgentErrors.describe(e) + ")";
    }
    if (problem != null && !problem.equals(lastProblem)) {
      AgentErrors.report(kind, what + " " + path + " " + problem + "; " + consequence);
    } else if (problem == null && lastProblem != null) {
      AgentErrors.log(what + " " + path + " is in use again");
    }
    lastProblem = problem;
    return digest;
  }

  /**
   * The secret in {@code file}, refused (with a message that says why in a few words) when the file
   * is missing, empty, too large, or may be accessed by group or others.
   */
  public static byte[] read(Path path) throws IOException {
    String loose;
    try {
      loose = looseMode(path);
    } catch (NoSuchFileException e) {
      throw new Problem("does not exist");
    }
    if (loose != null) {
      throw new Problem(
          "may be accessed by group or others ("
              + loose
              + "), so it is not used (run: chmod 600 "
              + path
              + ")");
    }
    if (!Files.isRegularFile(path)) {
      throw new Problem("is not a regular file");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (AccessDeniedException e) {
      throw new Problem("cannot be read (permission denied)");
    }
    if (bytes.length > MAX_BYTES) {
      throw new Problem("is larger than " + MAX_BYTES + " bytes");
    }
    byte[] secret =
        new String(bytes, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
    if (secret.length == 0) {
      throw new Problem("is empty");
    }
    return secret;
  }

  /**
   * Null when only the owner may access {@code file} (or the file system has no POSIX permissions);
   * otherwise its permissions, like {@code rw-r--r--}.
   */
  public static String looseMode(Path file) throws IOException {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException e) {
      return null;
    }
    if (perms.stream().noneMatch(GROUP_OR_OTHERS::contains)) {
      return null;
    }
    return PosixFilePermissions.toString(perms);
  }

  /**
   * A problem with the file, said in a few words (the file's name is added by whoever prints it).
   */
  private static final class Problem extends IOException {
    Problem(String message) {
      super(message);
    }
  }
}
