package com.acme.chat;

import java.util.List;

/** Lets the integration tests run the commands in-process (Main.main calls System.exit). */
public final class MainAccess {
    private MainAccess() {}

    public static int load(List<String> args) throws InterruptedException {
        return Main.load(args);
    }
}
