package testapp;

import java.util.concurrent.CountDownLatch;

/** A message pipeline: {@code process} is one invocation, each message looks up once. */
public class Pipe {
  /** Held open until {@code release} counts down, so a reload can land in the middle of it. */
  public String process(CountDownLatch inside, CountDownLatch release) throws InterruptedException {
    if (inside != null) {
      inside.countDown();
      release.await();
    }
    return lookup(1);
  }

  /** "ok"; the fallback of a short-circuited call is "short". */
  public String lookup(int key) {
    return "ok";
  }
}
