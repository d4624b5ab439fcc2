package dev.firebreak.rules;

/** What a short-circuited call does instead of running. */
public sealed interface Fallback {

  /** Throw a RuntimeException naming the rule, target and depth (the default). */
  record Throw() implements Fallback {
    @Override
    public String toString() {
      return "throw";
    }
  }

  record ReturnNull() implements Fallback {
    @Override
    public String toString() {
      return "return-null";
    }
  }

  /** 0, false, null, or the empty String, by return type. */
  record ReturnDefault() implements Fallback {
    @Override
    public String toString() {
      return "return-default";
    }
  }

  /** Return argument {@code index} (0-based). */
  record ReturnArg(int index) implements Fallback {
    @Override
    public String toString() {
      return "return-arg:" + index;
    }
  }

  /** Return {@code text} converted to the method's return type. */
  record ReturnValue(String text) implements Fallback {
    @Override
    public String toString() {
      return "return-value:" + text;
    }
  }
}
