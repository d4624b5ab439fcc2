package dev.firebreak.admin;

import dev.firebreak.http.AgentHttpServer.Request;
import dev.firebreak.http.AgentHttpServer.Response;
import dev.firebreak.json.Json;
import dev.firebreak.secrets.SecretFile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * SPEC section 5, on the metrics server's port: {@code GET /rules}, {@code GET /targets}, {@code
 * POST /targets/{name}/open|close}, {@code POST /reload}. Off (404) unless the rules file names
 * {@code admin.token-file} and that file can be used ({@link SecretFile}); a request without the
 * right bearer token gets 401 and changes nothing. Tokens are compared as sha256 digests with
 * {@link MessageDigest#isEqual}, so the comparison takes the same time whatever the token.
 */
public final class AdminEndpoints {

  /** What the endpoints act on: the running agent. */
  public interface Actions {
    /** sha256 of the expected token, or null when the admin endpoints are off. */
    byte[] tokenDigest();

    String rulesJson();

    String targetsJson();

    /** False when no such target is in force. */
    boolean open(String target);

    boolean close(String target);

    /** Re-reads the rules file now; the JSON result and whether it succeeded. */
    Result reload();
  }

  public record Result(boolean ok, String json) {}

  private final Actions actions;

  public AdminEndpoints(Actions actions) {
    this.actions = actions;
  }

  /** Whether {@code path} is one of the admin endpoints (answered by {@link #handle}). */
  public static boolean handles(String path) {
    return path.equals("/rules")
        || path.equals("/targets")
        || path.startsWith("/targets/")
        || path.equals("/reload");
  }

  public static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Answers one request from its head alone: the token is checked before anything else, and a body,
   * if one was sent, is never read.
   */
  public Response handle(Request r) {
    byte[] expected = actions.tokenDigest();
    if (expected == null) {
      return json(
          404,
          "{\"error\":\"the admin endpoints are off (admin.token-file is not set, or cannot be used: see the agent's stderr)\"}");
    }
    if (!authorized(r.header("authorization"), expected)) {
      return json(401, "{\"error\":\"missing or wrong bearer token\"}")
          .with("WWW-Authenticate", "Bearer realm=\"firebreak\"");
    }
    String path = r.path();
    String method = r.method();
    if (path.equals("/rules")) {
      return expect(method, "GET") ? json(200, actions.rulesJson()) : notAllowed("GET");
    }
    if (path.equals("/targets") || path.equals("/targets/")) {
      return expect(method, "GET") ? json(200, actions.targetsJson()) : notAllowed("GET");
    }
    if (path.equals("/reload")) {
      if (!method.equals("POST")) {
        return notAllowed("POST");
      }
      Result result = actions.reload();
      return json(result.ok() ? 200 : 422, result.json());
    }
    if (path.startsWith("/targets/") && (path.endsWith("/open") || path.endsWith("/close"))) {
      if (!method.equals("POST")) {
        return notAllowed("POST");
      }
      boolean open = path.endsWith("/open");
      String name =
          path.substring(
              "/targets/".length(), path.length() - (open ? "/open".length() : "/close".length()));
      boolean found = open ? actions.open(name) : actions.close(name);
      if (found) {
        return json(
            200,
            "{\"target\":"
                + Json.quote(name)
                + ",\"kill_switch\":\""
                + (open ? "open" : "closed")
                + "\"}");
      }
      return json(
          404,
          "{\"error\":\"no target "
              + Json.quote(name).replace("\"", "'")
              + " in the rules in force\"}");
    }
    return json(404, "{\"error\":\"no such endpoint\"}");
  }

  private static boolean authorized(String header, byte[] expected) {
    String given =
        header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
            ? header.substring(7).trim()
            : "";
    return MessageDigest.isEqual(digest(given), expected) && !given.isEmpty();
  }

  /** GET also answers HEAD. */
  private static boolean expect(String method, String allowed) {
    return method.equals(allowed) || (allowed.equals("GET") && method.equals("HEAD"));
  }

  private static Response notAllowed(String allowed) {
    return json(405, "{\"error\":\"use " + allowed + "\"}")
        .with("Allow", allowed.equals("GET") ? "GET, HEAD" : allowed);
  }

  private static Response json(int status, String json) {
    return new Response(
        status,
        "application/json; charset=utf-8",
        (json + "\n").getBytes(StandardCharsets.UTF_8),
        Map.of());
  }
}
