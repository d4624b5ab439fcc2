package dev.firebreak.instrument;

import dev.firebreak.bootstrap.Probe;
import dev.firebreak.rules.RuleSet;
import dev.firebreak.runtime.Engine;
import java.lang.instrument.Instrumentation;
import net.bytebuddy.agent.ByteBuddyAgent;

/**
 * The agent's instrumentation installed in this JVM (layer 2 of the tests), the way the agent
 * installs it: the probe pointed at an engine, the class gate in front of the weaving transformer,
 * and the classes already loaded retransformed. {@link #close} takes it all away again and gives
 * the classes their original bytecode back. The engine's own rules are the test's business.
 */
final class InProcessAgent implements AutoCloseable {
  static final Instrumentation INST = ByteBuddyAgent.install();

  private final Engine engine;
  private volatile RuleSet rules;
  private ClassGate gate;
  private Instrumenter instrumenter;

  InProcessAgent(Engine engine) {
    this.engine = engine;
  }

  /** Installs the instrumentation for {@code rs}: once per fixture. */
  void install(RuleSet rs) {
    Probe.install(engine);
    rules = rs;
    gate = new ClassGate(new ClassFilter(), true);
    INST.addTransformer(gate, true);
    gate.rulesKnown(rs);
    instrumenter = new Instrumenter(engine, () -> rules, gate.filter());
    gate.ready(instrumenter.transformer());
    instrumenter.retransform(INST, null, rs);
  }

  /** A reload: the weaver sees {@code next} from now on, and what either set matches is redone. */
  void reload(RuleSet next) {
    RuleSet old = rules;
    rules = next;
    instrumenter.retransform(INST, old, next);
  }

  Instrumenter instrumenter() {
    return instrumenter;
  }

  @Override
  public void close() {
    Probe.install(null);
    if (gate != null) {
      INST.removeTransformer(gate);
      RuleSet old = rules;
      rules = null;
      instrumenter.retransform(INST, old, null); // their original bytecode back
    }
  }
}
