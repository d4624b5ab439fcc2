package dev.firebreak.agent;

import java.lang.instrument.Instrumentation;

/**
 * {@code Premain-Class} and {@code Agent-Class}. Does as little as possible: puts the probe on the
 * bootstrap class path, then hands over. Never throws: an agent that fails must leave the
 * application running (one {@code firebreak:} line on stderr says why).
 */
public final class FirebreakAgent {
  private FirebreakAgent() {}

  public static void premain(String args, Instrumentation inst) {
    start(args, inst, false);
  }

  public static void agentmain(String args, Instrumentation inst) {
    start(args, inst, true);
  }

  private static void start(String args, Instrumentation inst, boolean attached) {
    try {
      BootstrapInjector.inject(inst);
      AgentRuntime.start(args, inst, attached);
    } catch (Throwable t) {
      try {
        System.err.println("firebreak: agent failed to start, the application runs without it: " + t);
      } catch (Throwable ignored) {
        // nothing left to report to
      }
    }
  }
}
