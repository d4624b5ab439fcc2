package dev.firebreak.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SPEC section 5, on the metrics server's port: {@code GET /rules}, {@code GET /targets},
 * {@code POST /targets/{name}/open|close}, {@code POST /reload}. Off (404) unless the rules
 * file names {@code admin.token-file}; a request without the right bearer token gets 401 and
 * changes nothing. Tokens are compared as sha256 digests with {@link MessageDigest#isEqual}, so
 * the comparison takes the same time whatever the token.
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

  private AdminEndpoints(Actions actions) {
    this.actions = actions;
  }

  public static void register(HttpServer server, Actions actions) {
    AdminEndpoints a = new AdminEndpoints(actions);
    server.createContext("/rules", a::handle);
    server.createContext("/targets", a::handle);
    server.createContext("/reload", a::handle);
  }

  public static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      drain(ex.getRequestBody());
      byte[] expected = actions.tokenDigest();
      if (expected == null) {
        send(ex, 404, "{\"error\":\"the admin endpoints are off (set admin.token-file in the rules file)\"}");
        return;
      }
      if (!authorized(ex, expected)) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"firebreak\"");
        send(ex, 401, "{\"error\":\"missing or wrong bearer token\"}");
        return;
      }
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.equals("/rules")) {
        if (expect(ex, method, "GET")) {
          send(ex, 200, actions.rulesJson());
        }
      } else if (path.equals("/targets") || path.equals("/targets/")) {
        if (expect(ex, method, "GET")) {
          send(ex, 200, actions.targetsJson());
        }
      } else if (path.equals("/reload")) {
        if (expect(ex, method, "POST")) {
          Result r = actions.reload();
          send(ex, r.ok() ? 200 : 422, r.json());
        }
      } else if (path.startsWith("/targets/") && (path.endsWith("/open") || path.endsWith("/close"))) {
        if (expect(ex, method, "POST")) {
          boolean open = path.endsWith("/open");
          String name = path.substring("/targets/".length(), path.length() - (open ? "/open".length() : "/close".length()));
          boolean found = open ? actions.open(name) : actions.close(name);
          if (found) {
            send(ex, 200, "{\"target\":" + dev.firebreak.alert.Json.quote(name) + ",\"kill_switch\":\"" + (open ? "open" : "closed") + "\"}");
          } else {
            send(ex, 404, "{\"error\":\"no target " + dev.firebreak.alert.Json.quote(name).replace("\"", "'") + " in the rules in force\"}");
          }
        }
      } else {
        send(ex, 404, "{\"error\":\"no such endpoint\"}");
      }
    } catch (RuntimeException e) {
      // the admin endpoints must never take the agent down
      dev.firebreak.runtime.AgentErrors.report("admin", "admin request failed: " + dev.firebreak.runtime.AgentErrors.describe(e));
    }
  }

  private static boolean authorized(HttpExchange ex, byte[] expected) {
    String header = ex.getRequestHeaders().getFirst("Authorization");
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    return MessageDigest.isEqual(digest(given), expected) && !given.isEmpty();
  }

  private static boolean expect(HttpExchange ex, String method, String allowed) throws IOException {
    if (method.equals(allowed)) {
      return true;
    }
    ex.getResponseHeaders().set("Allow", allowed);
    send(ex, 405, "{\"error\":\"use " + allowed + "\"}");
    return false;
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buf = new byte[4096];
    long total = 0;
    int n;
    while ((n = in.read(buf)) > 0 && (total += n) < 65536) {
      // bodies are ignored; read a bounded amount so the connection can be reused
    }
  }

  private static void send(HttpExchange ex, int status, String json) throws IOException {
    byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(body);
    }
  }
}
