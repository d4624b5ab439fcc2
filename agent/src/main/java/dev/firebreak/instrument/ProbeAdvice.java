package dev.firebreak.instrument;

import dev.firebreak.bootstrap.Probe;
import dev.firebreak.bootstrap.ShortCircuitException;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Inlined into every instrumented method. It only calls {@link Probe}: no fields, no allocation,
 * every id a constant. The enter advice skips the body when it returns true; the token (a start
 * time) travels to the exit advice in a local variable.
 *
 * <p>A failure inside the advice is suppressed: enter then returns false (the body runs) and leaves
 * the token 0, which exit ignores. So a broken agent degrades to "not watching", never to skipping
 * application code.
 */
public final class ProbeAdvice {

  private ProbeAdvice() {}

  @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
  public static boolean enter(
      @MethodId int id,
      @FirstArgument Object first,
      @Advice.Local("firebreakThread") Object thread,
      @Advice.Local("firebreakToken") long token) {
    thread = Probe.thread();
    token = Probe.enter(id, first, thread);
    return token == 0L;
  }

  /**
   * {@code backupArguments = false}: the body keeps its own local slots (with the default, Byte
   * Buddy copies every argument first and the body addresses the copies with longer instructions),
   * so the instrumented method stays as small as it can: C2 inlines a hot callee only up to 325
   * bytecode bytes. The one argument read here, the fallback's, is only read when the body was
   * skipped, so it is the caller's value either way.
   */
  @Advice.OnMethodExit(
      onThrowable = Throwable.class,
      suppress = Throwable.class,
      backupArguments = false)
  public static void exit(
      @MethodId int id,
      @Advice.Enter boolean skipped,
      @Advice.Local("firebreakThread") Object thread,
      @Advice.Local("firebreakToken") long token,
      @FallbackArgument Object argument,
      @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
      @Advice.Thrown(readOnly = false, typing = Assigner.Typing.DYNAMIC) Throwable thrown) {
    if (skipped) {
      Object fallback = Probe.fallback(id, argument);
      if (fallback instanceof ShortCircuitException) {
        thrown = (ShortCircuitException) fallback;
      } else {
        returned = fallback;
      }
    } else {
      Probe.exit(id, token, thread);
    }
  }
}
