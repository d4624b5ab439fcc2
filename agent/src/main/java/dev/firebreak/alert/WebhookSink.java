package dev.firebreak.alert;

import dev.firebreak.rules.Text;
import java.net.URI;

/** {@code alerts.webhook}: POSTs each event as the SPEC section 4 JSON object. */
public final class WebhookSink implements AlertSink {
  private final HttpPost post;

  public WebhookSink(URI uri) {
    this(uri, HttpPost.CONNECT_TIMEOUT_MILLIS, HttpPost.READ_TIMEOUT_MILLIS);
  }

  WebhookSink(URI uri, int connectTimeoutMillis, int readTimeoutMillis) {
    this.post = new HttpPost(uri, connectTimeoutMillis, readTimeoutMillis);
  }

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  public String destination() {
    return "webhook " + post.uri();
  }

  @Override
  public String printableDestination() {
    return "webhook " + Text.redactUrl(post.uri().toString());
  }

  @Override
  public void send(AlertEvent event) throws Exception {
    post.send(event.toJson());
  }
}
