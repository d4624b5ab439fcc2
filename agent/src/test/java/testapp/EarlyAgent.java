package testapp;

import java.lang.instrument.Instrumentation;

/**
 * Another Java agent, ahead of Firebreak's on the command line: its premain loads a class the rules
 * name before Firebreak's premain runs, so that only Firebreak's catch-up can instrument it.
 */
public final class EarlyAgent {
  private EarlyAgent() {}

  public static void premain(String args, Instrumentation inst) throws ClassNotFoundException {
    Class.forName("testapp.StartupApp$Early");
  }
}
