package dev.firebreak.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Append-only: ids are dense, start at 0 and are never reused, so arrays indexed by id only grow.
 */
public final class MethodRegistry {
  private final Map<String, MethodInfo> byKey = new ConcurrentHashMap<>();
  private volatile MethodInfo[] byId = new MethodInfo[0];

  /**
   * Returns the method's id, registering it on first sight. A method re-instrumented for another
   * target (after a reload) keeps its id and gets the new target.
   */
  public synchronized MethodInfo register(
      String className,
      String name,
      String descriptor,
      String label,
      String returnType,
      List<String> parameterTypes,
      String targetName) {
    MethodInfo known = byKey.get(MethodInfo.key(className, name, descriptor));
    if (known != null) {
      if (known.targetName().equals(targetName)) {
        return known;
      }
      MethodInfo moved =
          new MethodInfo(
              known.id(),
              className,
              name,
              descriptor,
              known.label(),
              known.returnType(),
              known.parameterTypes(),
              targetName);
      MethodInfo[] copy = byId.clone();
      copy[known.id()] = moved;
      byKey.put(moved.key(), moved);
      byId = copy;
      return moved;
    }
    MethodInfo[] old = byId;
    MethodInfo info =
        new MethodInfo(
            old.length, className, name, descriptor, label, returnType, parameterTypes, targetName);
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
