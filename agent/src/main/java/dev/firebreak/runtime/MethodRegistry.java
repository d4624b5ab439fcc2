package dev.firebreak.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;

/** Append-only: ids are dense, start at 0 and are never reused, so arrays indexed by id only grow. */
public final class MethodRegistry {
  private final Map<String, MethodInfo> byKey = new ConcurrentHashMap<>();
  private volatile MethodInfo[] byId = new MethodInfo[0];

  /** Returns the method's id, registering it on first sight. */
  public synchronized MethodInfo register(
      String className, String name, String descriptor, IntFunction<MethodInfo> create) {
    MethodInfo known = byKey.get(MethodInfo.key(className, name, descriptor));
    if (known != null) {
      return known;
    }
    MethodInfo[] old = byId;
    MethodInfo info = create.apply(old.length);
    MethodInfo[] grown = java.util.Arrays.copyOf(old, old.length + 1);
    grown[old.length] = info;
    byKey.put(info.key(), info);
    byId = grown;
    return info;
  }

  public MethodInfo find(String className, String name, String descriptor) {
    return byKey.get(MethodInfo.key(className, name, descriptor));
  }

  public MethodInfo get(int id) {
    MethodInfo[] all = byId;
    return id >= 0 && id < all.length ? all[id] : null;
  }

  public int size() {
    return byId.length;
  }

  public List<MethodInfo> all() {
    return new ArrayList<>(List.of(byId));
  }
}
