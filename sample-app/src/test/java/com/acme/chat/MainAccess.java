package com.acme.chat;

import java.io.IOException;
import java.util.List;

/** Lets the integration tests run the commands in-process (Main.main calls System.exit). */
public final class MainAccess {
  private MainAccess() {}

  public static int load(List<String> args) throws IOException, InterruptedException {
    return Main.load(args);
  }
}
