package testapp;

/**
 * What an application that must be watched from its first call does with {@code startup=lazy}: wait
 * until the agent reports its instrumentation in force ({@code firebreak.status} leaves
 * "starting"). Without the agent the property is absent and nothing waits. {@code
 * -Dtestapp.nowait=true} skips the wait (the startup tests).
 */
final class AgentReady {
  private AgentReady() {}

  static void await() throws InterruptedException {
    if (!Boolean.getBoolean("testapp.nowait")) {
      awaitAlways();
    }
  }

  static void awaitAlways() throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while ("starting".equals(System.getProperty("firebreak.status"))
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
  }
}
