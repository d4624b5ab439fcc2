package dev.firebreak.metrics;

import dev.firebreak.admin.AdminEndpoints;
import dev.firebreak.http.AgentHttpServer;
import dev.firebreak.http.AgentHttpServer.Request;
import dev.firebreak.http.AgentHttpServer.Response;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.secrets.SecretFile;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * {@code /metrics} and the admin endpoints on one port, served by {@link AgentHttpServer} on the
 * agent's own daemon threads. With {@code metrics.tls} the port speaks HTTPS only; with {@code
 * metrics.basic-auth}, {@code /metrics} needs that user and password (the admin endpoints keep
 * their bearer token). Host, port and TLS are read at start; the basic-auth password file is read
 * at every scrape, so a rotated password is in force at once.
 */
public final class MetricsServer implements AutoCloseable {
  private static final String ALLOWED = "GET, HEAD";

  private final AgentHttpServer http;

  private MetricsServer(AgentHttpServer http) {
    this.http = http;
  }

  /**
   * Binds {@code host:port} and starts serving. Throws when the port is taken or the TLS keystore
   * cannot be used (then nothing is served: never plain HTTP where HTTPS was asked for).
   */
  public static MetricsServer start(
      String host,
      int port,
      RuleSet.MetricsConfig config,
      CollectorRegistry registry,
      AdminEndpoints admin)
      throws IOException, GeneralSecurityException {
    ServerSocket listener =
        config.tls() == null
            ? new ServerSocket()
            : tlsContext(config.tls()).getServerSocketFactory().createServerSocket();
    try {
      if (listener instanceof SSLServerSocket tls) {
        tls.setNeedClientAuth(false);
      }
      listener.setReuseAddress(true);
      listener.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
      return new MetricsServer(
          AgentHttpServer.start(listener, new Routes(config.basicAuth(), registry, admin)));
    } catch (IOException | RuntimeException e) {
      listener.close();
      throw e;
    }
  }

  public int port() {
    return http.port();
  }

  @Override
  public void close() {
    http.close();
  }

  private static SSLContext tlsContext(RuleSet.Tls tls)
      throws IOException, GeneralSecurityException {
    char[] password;
    try {
      password =
          new String(SecretFile.read(Path.of(tls.passwordFile())), StandardCharsets.UTF_8)
              .toCharArray();
    } catch (IOException e) {
      throw new IOException(
          "the keystore password file " + tls.passwordFile() + " " + e.getMessage(), e);
    }
    try {
      KeyStore keys =
          KeyStore.getInstance(
              Path.of(tls.keystore()).toFile(), password); // PKCS12 or JKS, by content
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return context;
    } finally {
      Arrays.fill(password, '\0');
    }
  }

  /** What each path answers. */
  private static final class Routes implements AgentHttpServer.Handler {
    private final RuleSet.BasicAuth basicAuth;
    private final SecretFile password;
    private final CollectorRegistry registry;
    private final AdminEndpoints admin;

    Routes(RuleSet.BasicAuth basicAuth, CollectorRegistry registry, AdminEndpoints admin) {
      this.basicAuth = basicAuth;
      this.password =
          basicAuth == null
              ? null
              : new SecretFile(
                  basicAuth.passwordFile(),
                  "metrics.basic-auth.password-file",
                  "metrics",
                  "/metrics answers 503");
      this.registry = registry;
      this.admin = admin;
    }

    @Override
    public Response handle(Request r) throws IOException {
      if (r.path().equals("/metrics")) {
        return metrics(r);
      }
      if (admin != null && AdminEndpoints.handles(r.path())) {
        return admin.handle(r);
      }
      return Response.text(404, "not found; Firebreak serves /metrics");
    }

    private Response metrics(Request r) throws IOException {
      if (!r.method().equals("GET") && !r.method().equals("HEAD")) {
        return Response.text(405, "use GET").with("Allow", ALLOWED);
      }
      if (basicAuth != null) {
        byte[] expected = password.digest(basicAuth.user() + ":");
        if (expected == null) {
          return Response.text(
              503, "the basic-auth password file cannot be used (see the agent's stderr)");
        }
        if (!MessageDigest.isEqual(expected, givenDigest(r.header("authorization")))) {
          return Response.text(401, "unauthorized")
              .with("WWW-Authenticate", "Basic realm=\"firebreak\", charset=\"UTF-8\"");
        }
      }
      String contentType = TextFormat.chooseContentType(r.header("accept"));
      ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
      try (Writer w = new OutputStreamWriter(body, StandardCharsets.UTF_8)) {
        TextFormat.writeFormat(contentType, w, registry.metricFamilySamples());
      }
      return new Response(200, contentType, body.toByteArray(), java.util.Map.of());
    }

    /**
     * sha256 of the {@code user:password} a Basic header carries; of nothing when there is none.
     */
    private static byte[] givenDigest(String header) {
      byte[] credentials = new byte[0];
      if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
        try {
          credentials = Base64.getDecoder().decode(header.substring(6).strip());
        } catch (IllegalArgumentException e) {
          credentials = new byte[0];
        }
      }
      try {
        // a digest of nothing never equals a digest of "user:" + a non-empty password
        return MessageDigest.getInstance("SHA-256").digest(credentials);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
