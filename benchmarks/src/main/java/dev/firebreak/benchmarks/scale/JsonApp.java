package dev.firebreak.benchmarks.scale;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link BroadGuardHarness}: JSON round trips (write, then read back) of a 20-line
 * order with Jackson, {@code ROUNDS} x {@code N}, timed; with the agent, the size of one /metrics
 * page and its series count afterwards. usage: {@code JsonApp N ROUNDS [METRICS_PORT]}.
 */
public final class JsonApp {
  private JsonApp() {}

  /** An order line. */
  public static final class Line {
    public String sku;
    public String title;
    public int quantity;
    public long cents;
    public List<String> tags = new ArrayList<>();
  }

  /** An order of 20 lines. */
  public static final class Order {
    public String id;
    public String customer;
    public List<Line> lines = new ArrayList<>();
  }

  static Order order() {
    Order o = new Order();
    o.id = "order-42";
    o.customer = "customer-7";
    for (int i = 0; i < 20; i++) {
      Line l = new Line();
      l.sku = "sku-" + i;
      l.title = "item number " + i + " with a longer title";
      l.quantity = i + 1;
      l.cents = 1999L * (i + 1);
      l.tags.add("tag-" + (i % 3));
      l.tags.add("colour-" + (i % 5));
      o.lines.add(l);
    }
    return o;
  }

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    int rounds = Integer.parseInt(args[1]);
    int port = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while ("starting".equals(System.getProperty("firebreak.status"))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    ObjectMapper mapper = new ObjectMapper();
    Order order = order();
    int check = 0;
    for (int i = 0; i < 20_000; i++) { // warm-up
      check += mapper.readValue(mapper.writeValueAsString(order), Order.class).lines.size();
    }
    long start = System.nanoTime();
    for (int r = 0; r < rounds; r++) {
      long roundStart = System.nanoTime();
      for (int i = 0; i < n; i++) {
        check += mapper.readValue(mapper.writeValueAsString(order), Order.class).lines.size();
      }
      System.out.println("ROUND_NS " + (System.nanoTime() - roundStart));
    }
    long elapsed = System.nanoTime() - start;
    System.out.println("ELAPSED_NS " + elapsed);
    System.out.println("CHECK " + check);
    if (port > 0) {
      String page =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      System.out.println(
          "METRICS_BYTES " + page.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
      System.out.println(
          "METRICS_SERIES " + page.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count());
      System.out.println(
          "JACKSON_SERIES "
              + page.lines()
                  .filter(l -> l.startsWith("firebreak_calls_total{") && l.contains("\"jackson\""))
                  .count());
    }
  }
}
