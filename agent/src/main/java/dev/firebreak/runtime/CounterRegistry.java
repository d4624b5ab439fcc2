package dev.firebreak.runtime;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dense, stable ids for per-thread depth counters ("target:NAME", "group:NAME"). Stable across
 * reloads so a call that entered under old rules still decrements the right slot on exit.
 */
public final class CounterRegistry {
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();

  public synchronized int id(String counter) {
    Integer id = ids.get(counter);
    if (id == null) { // under this registry's lock: ids stay dense
      id = ids.size();
      ids.put(counter, id);
    }
    return id;
  }

  public int size() {
    return ids.size();
  }
}
