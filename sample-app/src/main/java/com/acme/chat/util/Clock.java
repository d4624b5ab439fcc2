package com.acme.chat.util;

import java.time.Instant;

/** Wall-clock time in microseconds since the epoch (comparable across JVMs on one machine). */
public final class Clock {
  private Clock() {}

  public static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }
}
