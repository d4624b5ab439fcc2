package dev.firebreak.instrument;

import dev.firebreak.bootstrap.Net;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into every method under the auto-fence's net (and into no method a target covers): counts
 * the thread's depth under the net in the cell {@link Net#cell()} gives, with plain array reads and
 * writes, and calls out only when the depth reaches {@link Net#deep} or a throwable unwinds. The
 * exit puts back the depth the entry found, so it needs no matching and repairs a lost exit.
 */
public final class NetAdvice {

  private NetAdvice() {}

  @Advice.OnMethodEnter(suppress = Throwable.class)
  public static void enter(
      @Advice.Local("firebreakNet") int[] cell, @Advice.Local("firebreakNetDepth") int depth) {
    cell = Net.cell();
    depth = cell[0];
    cell[0] = depth + 1;
    if (depth == Net.deep) {
      Net.deep();
    }
  }

  @Advice.OnMethodExit(
      onThrowable = Throwable.class,
      suppress = Throwable.class,
      backupArguments = false)
  public static void exit(
      @Advice.Local("firebreakNet") int[] cell,
      @Advice.Local("firebreakNetDepth") int depth,
      @Advice.Thrown Throwable thrown) {
    if (cell != null) {
      cell[0] = depth;
    }
    if (thrown != null) {
      Net.thrown(thrown);
    }
  }
}
