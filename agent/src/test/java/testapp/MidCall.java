package testapp;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One long-lived worker thread running {@link Pipe} messages, driven from stdin: {@code hold} (the
 * worker enters a message and stays inside it), {@code release}, {@code msg N} (N messages, then
 * {@code SHORT k}: how many of their lookups were short-circuited).
 */
public final class MidCall {
  private MidCall() {}

  public static void main(String[] args) throws Exception {
    BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    Thread worker =
        new Thread(
            () -> {
              try {
                while (true) {
                  work.take().run();
                }
              } catch (InterruptedException e) {
                // quit
              }
            },
            "worker-1");
    worker.setDaemon(true);
    worker.start();
    Pipe pipe = new Pipe();
    CountDownLatch[] release = {new CountDownLatch(1)};
    System.out.println("READY");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.equals("quit")) {
        break;
      } else if (line.equals("hold")) {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch r = new CountDownLatch(1);
        release[0] = r;
        work.add(() -> run(() -> pipe.process(inside, r)));
        inside.await();
        System.out.println("INSIDE");
      } else if (line.equals("release")) {
        release[0].countDown();
        CountDownLatch done = new CountDownLatch(1);
        work.add(done::countDown);
        done.await();
        System.out.println("RELEASED");
      } else if (line.startsWith("msg ")) {
        int n = Integer.parseInt(line.substring(4));
        int[] shorts = {0};
        CountDownLatch done = new CountDownLatch(1);
        work.add(
            () -> {
              for (int i = 0; i < n; i++) {
                if ("short".equals(run(() -> pipe.process(null, null)))) {
                  shorts[0]++;
                }
              }
              done.countDown();
            });
        done.await();
        System.out.println("SHORT " + shorts[0] + " OF " + n);
      }
      System.out.flush();
    }
    System.out.println("BYE");
  }

  interface Call {
    String call() throws Exception;
  }

  private static String run(Call c) {
    try {
      return c.call();
    } catch (Exception e) {
      return "failed " + e;
    }
  }
}
