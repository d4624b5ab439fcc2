package testapp.inproc;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** For the pending entry: a method an override calls through {@code super}. */
public class Pended implements Function<String, String> {
  /** How many times {@link #shout}'s body ran. */
  public static final AtomicInteger BODIES = new AtomicInteger();

  public String shout(String s) {
    BODIES.incrementAndGet();
    return s.toUpperCase(java.util.Locale.ROOT);
  }

  @Override
  public String apply(String s) {
    return shout(s);
  }

  /** Overrides the pending method: calling the method again must not call this one instead. */
  public static class Louder extends Pended {
    @Override
    public String shout(String s) {
      return super.shout(s) + "!";
    }
  }
}
