package dev.firebreak.benchmarks;

import org.openjdk.jmh.annotations.CompilerControl;

/**
 * The uninstrumented baseline. It sits under {@code dev.firebreak.*}, which the agent never
 * instruments, so it is bare even in a JVM with the agent attached.
 */
public final class Plain {

  private Plain() {}

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  public static int work(int x) {
    return x * 31 + 7;
  }
}
