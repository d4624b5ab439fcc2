package dev.firebreak.alert;

import dev.firebreak.errors.AgentErrors;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.rules.Text;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/** The sinks a rules file asks for ({@code alerts.log}, {@code alertmanager}, {@code webhook}). */
public final class Sinks {
  private Sinks() {}

  public static List<AlertSink> create(RuleSet rs) {
    List<AlertSink> out = new ArrayList<>();
    String log = rs.alerts().log();
    if (log != null && !log.equals("off")) {
      if (log.equals("stderr")) {
        out.add(LogSink.stderr());
      } else {
        try {
          out.add(LogSink.file(log));
        } catch (Exception e) {
          AgentErrors.report(
              "alerts",
              "cannot open the alert log "
                  + log
                  + ", alerts go to stderr: "
                  + AgentErrors.describe(e));
          out.add(LogSink.stderr());
        }
      }
    }
    String alertmanager = rs.alerts().alertmanager();
    if (alertmanager != null) {
      try {
        out.add(new AlertmanagerSink(URI.create(alertmanager), rs));
      } catch (RuntimeException e) {
        AgentErrors.report(
            "alerts",
            "alerts.alertmanager "
                + Text.redactUrl(alertmanager)
                + " is not usable, no alerts go there: "
                + Text.redactUrl(AgentErrors.describe(e)));
      }
    }
    String webhook = rs.alerts().webhook();
    if (webhook != null) {
      try {
        out.add(new WebhookSink(URI.create(webhook)));
      } catch (RuntimeException e) {
        AgentErrors.report(
            "alerts",
            "alerts.webhook "
                + Text.redactUrl(webhook)
                + " is not usable, no alerts go there: "
                + Text.redactUrl(AgentErrors.describe(e)));
      }
    }
    return out;
  }
}
