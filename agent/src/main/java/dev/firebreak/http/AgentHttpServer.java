package dev.firebreak.http;

import dev.firebreak.errors.AgentErrors;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server for {@code /metrics} and the admin endpoints, built so that idle, slow or
 * hostile clients cannot hold it up (issue 16). It runs inside someone else's JVM, so it sets no
 * global property (the JDK server's timeouts are JVM-wide system properties) and starts only daemon
 * threads.
 *
 * <ul>
 *   <li>One request per connection ({@code Connection: close}): no idle keep-alive connections.
 *   <li>The request head (request line and headers, after the TLS handshake if any) is bounded
 *       ({@value #MAX_HEAD_BYTES} bytes, {@value #MAX_HEADERS} headers) and must arrive within
 *       {@value #HEAD_MILLIS} ms of the accept; the answer must be written within {@value
 *       #ANSWER_MILLIS} ms. The accepting thread ({@code firebreak-http-accept}) wakes at least
 *       every {@value #TICK_MILLIS} ms and closes every connection past its deadline, which ends
 *       any read, write or handshake in progress on it.
 *   <li>A request body is never read by a handler: handlers decide (the admin token is checked) on
 *       the head alone. A body that was sent is drained and discarded after the answer, at most
 *       {@value #MAX_DRAIN_BYTES} bytes within {@value #LINGER_MILLIS} ms, so that the client reads
 *       the answer instead of a connection reset.
 *   <li>At most {@value #MAX_CONNECTIONS} connections are open, each on a worker of a bounded pool
 *       ({@code firebreak-http}). When a new connection comes in at the limit, the oldest
 *       connection that has not sent its whole request head yet (or is lingering after its answer)
 *       is closed to make room; only when every connection is being answered is the oldest of those
 *       closed. A client that stalls therefore cannot keep a new request out. A new connection
 *       whose worker is still busy with an evicted one waits in a bounded queue (its deadline runs
 *       meanwhile); only when that queue is full is it closed at once, never left hanging.
 * </ul>
 *
 * <p>Threads: the accepting thread admits, evicts and reaps; each worker owns one connection. The
 * set of live connections is concurrent; a connection's state and deadline are volatile, written by
 * its worker and read by the accepting thread.
 */
public final class AgentHttpServer implements AutoCloseable {
  static final int MAX_CONNECTIONS = 32;
  static final int WORKERS =
      MAX_CONNECTIONS + 8; // room for workers whose evicted connection is unwinding
  static final int QUEUED_CONNECTIONS = 4 * MAX_CONNECTIONS;
  static final int MAX_HEAD_BYTES = 16 * 1024;
  static final int MAX_REQUEST_LINE_BYTES = 8 * 1024;
  static final int MAX_HEADERS = 100;
  static final long HEAD_MILLIS = 10_000;
  static final long ANSWER_MILLIS = 30_000;
  static final long LINGER_MILLIS = 1_000;
  static final int MAX_DRAIN_BYTES = 64 * 1024;
  static final int TICK_MILLIS = 250;

  /** A request head. Header names are lower case; the first of repeated headers counts. */
  public record Request(String method, String path, String query, Map<String, String> headers) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /**
   * An answer; {@code headers} are extra header lines ({@code WWW-Authenticate}, {@code Allow}).
   */
  public record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    public static Response text(int status, String text) {
      return new Response(
          status,
          "text/plain; charset=utf-8",
          (text + "\n").getBytes(StandardCharsets.UTF_8),
          Map.of());
    }

    public Response with(String header, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(header, value);
      return new Response(status, contentType, body, h);
    }
  }

  /**
   * Answers one request; may throw (the client gets a 500 without details, the error is counted).
   */
  public interface Handler {
    Response handle(Request request) throws Exception;
  }

  private enum State {
    READING,
    ANSWERING,
    LINGERING
  }

  private final ServerSocket listener;
  private final Handler handler;
  private final ThreadPoolExecutor workers;
  private final Set<Connection> live = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private AgentHttpServer(ServerSocket listener, Handler handler) {
    this.listener = listener;
    this.handler = handler;
    // A fixed number of workers and a bounded queue: a connection admitted while the worker of
    // an evicted one is still unwinding waits a moment for it instead of being closed unanswered.
    this.workers =
        new ThreadPoolExecutor(
            WORKERS,
            WORKERS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_CONNECTIONS),
            new WorkerThreads());
    this.acceptor =
        new Thread(
            new Runnable() { // no lambda: no invokedynamic bootstrap on the agent's start
              @Override
              public void run() {
                acceptLoop();
              }
            },
            "firebreak-http-accept");
    acceptor.setDaemon(true);
    workers.allowCoreThreadTimeOut(true);
  }

  /** Serves {@code handler} on a bound {@code listener} (a plain or a TLS server socket). */
  public static AgentHttpServer start(ServerSocket listener, Handler handler) throws IOException {
    listener.setSoTimeout(TICK_MILLIS);
    AgentHttpServer server = new AgentHttpServer(listener, handler);
    server.acceptor.start();
    return server;
  }

  public int port() {
    return listener.getLocalPort();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Connection c : live) {
      c.close();
    }
    workers.shutdownNow();
  }

  // ---------------------------------------------------------------- accepting thread

  private void acceptLoop() {
    long lastFailure = 0;
    while (!closed) {
      Socket s = null;
      try {
        s = listener.accept();
      } catch (SocketTimeoutException e) {
        // a tick: time to look at the deadlines
      } catch (IOException | RuntimeException e) {
        if (closed) {
          return;
        }
        if (System.nanoTime() - lastFailure > TimeUnit.MINUTES.toNanos(1)) {
          AgentErrors.report("http", "accepting a connection failed: " + AgentErrors.describe(e));
        }
        lastFailure = System.nanoTime();
        pause(); // out of file descriptors, say: do not spin
      }
      reap();
      if (s != null) {
        admit(s);
      }
    }
  }

  private void admit(Socket s) {
    if (live.size() >= MAX_CONNECTIONS) {
      evictOne();
    }
    Connection c = new Connection(s);
    live.add(c);
    try {
      workers.execute(c);
    } catch (RejectedExecutionException e) {
      c.close(); // every worker busy and the queue full: closed at once, not left waiting
    }
  }

  /**
   * Closes the oldest connection still reading (or lingering); failing that, the oldest being
   * answered.
   */
  private void evictOne() {
    Connection idle = null;
    Connection busy = null;
    for (Connection c : live) {
      if (c.state == State.ANSWERING) {
        busy = busy == null || c.accepted < busy.accepted ? c : busy;
      } else {
        idle = idle == null || c.accepted < idle.accepted ? c : idle;
      }
    }
    Connection victim = idle != null ? idle : busy;
    if (victim != null) {
      victim.close();
    }
  }

  private void reap() {
    long now = System.nanoTime();
    for (Connection c : live) {
      if (now - c.deadline > 0) {
        c.close();
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- one connection, on a worker

  private final class Connection implements Runnable {
    final Socket socket;
    final long accepted = System.nanoTime();
    volatile State state = State.READING;
    volatile long deadline = accepted + TimeUnit.MILLISECONDS.toNanos(HEAD_MILLIS);

    Connection(Socket socket) {
      this.socket = socket;
    }

    @Override
    public void run() {
      try {
        socket.setSoTimeout((int) HEAD_MILLIS);
        socket.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(socket.getInputStream(), 4096);
        Request request;
        boolean bodySent;
        try {
          request = readHead(in);
          bodySent =
              request.header("transfer-encoding") != null
                  || (request.header("content-length") != null
                      && !request.header("content-length").trim().equals("0"));
        } catch (BadRequest e) {
          answer(Response.text(e.status, e.getMessage()), false, in, true);
          return;
        }
        answering(); // from here on not evicted as a slow client, while the handler works
        answer(respond(request), request.method().equals("HEAD"), in, bodySent);
      } catch (IOException | RuntimeException e) {
        // the client went away, sent garbage, or ran out of time: nothing to tell anyone
      } finally {
        close();
      }
    }

    private Response respond(Request request) {
      try {
        Response r = handler.handle(request);
        return r != null ? r : Response.text(404, "not found");
      } catch (Throwable t) {
        // the client learns nothing about the agent's insides; the operator gets one line
        String path =
            request.path().length() > 100 ? request.path().substring(0, 100) + "…" : request.path();
        AgentErrors.report(
            "http",
            "answering " + request.method() + " " + path + " failed: " + AgentErrors.describe(t));
        return Response.text(500, "internal error");
      }
    }

    private void answering() {
      if (state != State.ANSWERING) {
        state = State.ANSWERING;
        deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANSWER_MILLIS);
      }
    }

    private void answer(Response r, boolean headOnly, InputStream in, boolean bodySent)
        throws IOException {
      answering();
      OutputStream out = socket.getOutputStream();
      StringBuilder head =
          new StringBuilder(256)
              .append("HTTP/1.1 ")
              .append(r.status())
              .append(' ')
              .append(reason(r.status()))
              .append("\r\n")
              .append("Content-Type: ")
              .append(r.contentType())
              .append("\r\n")
              .append("Content-Length: ")
              .append(r.body().length)
              .append("\r\n")
              .append("Connection: close\r\n")
              .append("Cache-Control: no-store\r\n");
      for (Map.Entry<String, String> h : r.headers().entrySet()) {
        head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      if (!headOnly) {
        out.write(r.body());
      }
      out.flush();
      if (bodySent) {
        linger(in);
      }
    }

    /**
     * Half-closes, then drains what the client still sends, boundedly, so that it reads the answer.
     */
    private void linger(InputStream in) {
      state = State.LINGERING;
      deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
      try {
        socket.shutdownOutput();
        socket.setSoTimeout((int) LINGER_MILLIS);
        byte[] buf = new byte[4096];
        int total = 0;
        int n;
        while (total < MAX_DRAIN_BYTES && (n = in.read(buf)) > 0) {
          total += n;
        }
      } catch (IOException | RuntimeException e) {
        // closing is all that is left
      }
    }

    void close() {
      live.remove(this);
      closeQuietly(socket);
    }
  }

  // ---------------------------------------------------------------- parsing

  /** A request the server answers itself, with {@code status} and a fixed message. */
  private static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  static Request readHead(InputStream in) throws IOException, BadRequest {
    int[] budget = {MAX_HEAD_BYTES};
    String requestLine = line(in, budget, MAX_REQUEST_LINE_BYTES, 414, "request line too long");
    while (requestLine.isEmpty()) {
      requestLine =
          line(
              in,
              budget,
              MAX_REQUEST_LINE_BYTES,
              414,
              "request line too long"); // RFC 9112: ignore leading empty lines
    }
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || !parts[0].matches("[A-Z]{1,20}") || !parts[1].startsWith("/")) {
      throw new BadRequest(400, "bad request");
    }
    if (!parts[2].equals("HTTP/1.1") && !parts[2].equals("HTTP/1.0")) {
      throw new BadRequest(505, "HTTP/1.1 only");
    }
    String target = parts[1];
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        throw new BadRequest(400, "bad request");
      }
    }
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? null : target.substring(q + 1);
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> lines = new ArrayList<>();
    for (String h = line(in, budget, MAX_HEAD_BYTES, 431, "headers too large");
        !h.isEmpty();
        h = line(in, budget, MAX_HEAD_BYTES, 431, "headers too large")) {
      if (lines.size() >= MAX_HEADERS) {
        throw new BadRequest(431, "too many headers");
      }
      lines.add(h);
      int colon = h.indexOf(':');
      if (colon <= 0 || !h.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new BadRequest(400, "bad request"); // also a folded line (RFC 9112 deprecates them)
      }
      headers.putIfAbsent(
          h.substring(0, colon).toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
    }
    return new Request(parts[0], path, query, Collections.unmodifiableMap(headers));
  }

  /**
   * One line without its line end, charged to {@code budget}; EOF before its end is an IOException.
   */
  private static String line(InputStream in, int[] budget, int max, int status, String tooLong)
      throws IOException, BadRequest {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the client closed the connection");
      }
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      if (--budget[0] < 0 || b.size() >= max) {
        throw new BadRequest(
            budget[0] < 0 ? 431 : status, budget[0] < 0 ? "headers too large" : tooLong);
      }
      if (c == 0) {
        throw new BadRequest(400, "bad request");
      }
      b.write(c);
    }
  }

  private static String reason(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 414:
        return "URI Too Long";
      case 422:
        return "Unprocessable Content";
      case 431:
        return "Request Header Fields Too Large";
      case 500:
        return "Internal Server Error";
      case 503:
        return "Service Unavailable";
      case 505:
        return "HTTP Version Not Supported";
      default:
        return "Status";
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // nothing to do about it
    }
  }

  /** The workers: daemon threads with a small stack, numbered. */
  private static final class WorkerThreads implements ThreadFactory {
    private final AtomicInteger n = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(null, r, "firebreak-http-" + n.incrementAndGet(), 256 * 1024);
      t.setDaemon(true);
      return t;
    }
  }
}
