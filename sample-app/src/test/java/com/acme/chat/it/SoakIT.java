package com.acme.chat.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.chat.soak.Soak;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The chaos soak for two minutes (the long run is {@code java -jar firebreak-sample-app.jar soak
 * --duration 10m}): the service with the agent under open-loop load while the packs alternate, the
 * rules file is rewritten (valid, invalid, without the renderer target and back), kill switches are
 * opened and closed by hand, Alertmanager is stopped and started, and attach, attach --detach and
 * re-attach run while messages are processed. Every check of the soak must hold.
 */
class SoakIT {
  @Test
  void twoMinutesOfChaosKeepEveryPromise() throws Exception {
    Path agent = ItSupport.agentJarOrSkip();
    Path alertmanager = AlertmanagerIT.alertmanagerOrSkip();
    Soak.Options o =
        new Soak.Options(
            ItSupport.appJar(),
            agent,
            ItSupport.rules(),
            alertmanager,
            Duration.ofMinutes(2),
            200,
            Duration.ofSeconds(10),
            Duration.ofSeconds(3),
            Duration.ofSeconds(3),
            false);
    Soak.Report r = new Soak(o, System.out, System.out).run();
    assertThat(r.failed()).as("failed checks of the soak:%n%s", r.summary()).isEmpty();
    // the run was the whole schedule, not a vacuous pass
    assertThat(r.cycles()).as("cycles of the schedule").isGreaterThanOrEqualTo(2);
    assertThat(r.checks())
        .extracting(Soak.Check::name)
        .contains(
            "no message lost (each delivered, or dead-lettered with a reason)",
            "firebreak_inflight_calls is 0 at every load pause",
            "every kill switch closed within open-for + 5 s",
            "heap after GC at the end within 10 % of after the warm-up",
            "every scrape of /metrics answered within 1 s");
  }
}
