package dev.firebreak.instrument;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * Weaves the agent's calls into the methods of one class file, as an ASM visitor: nothing but ASM
 * on the class-load path (no Byte Buddy type pool, no advice templates to read), no class format
 * change (no field, no method added: a woven class can be retransformed back), and every call goes
 * to the boot loader's {@code dev.firebreak.bootstrap} facade.
 *
 * <p>A watched method ({@link Weave#probe}) becomes:
 *
 * <pre>
 *   thread = Probe.thread(); token = Probe.enter(id, firstReferenceArgument, thread)
 *   if (token == 0) return (T) Probe.shortCircuit(id, fallbackArgument)  // or throws the fallback
 *   ...the body, each return preceded by Probe.exit(id, token, thread)...
 *   on any throwable out of the body: Probe.exit(id, token, thread); rethrow
 * </pre>
 *
 * A method under the auto-fence's net ({@link Weave#NET}) counts the thread's depth with {@code
 * Net.enter}/{@code Net.exit} the same way. A throwable out of the woven calls themselves (a {@link
 * StackOverflowError} on a deep stack) is swallowed: entry then lets the body run unwatched (token
 * 0 for {@code Probe.exit}, no cell for {@code Net.exit}), exit returns or rethrows what the body
 * did. So a failing agent degrades to "not watching", never to skipping application code.
 *
 * <p>The woven locals sit above the method's own ({@code maxLocals} from a first look at the class
 * file), and every stack map frame of the body is extended with them, so the class verifies as
 * before; the body's instructions are not touched but for the returns.
 */
public final class Weaver extends ClassVisitor {
  private static final String PROBE = "dev/firebreak/bootstrap/Probe";
  private static final String NET = "dev/firebreak/bootstrap/Net";
  private static final String THROWABLE = "java/lang/Throwable";
  private static final String OBJECT = "java/lang/Object";

  /**
   * What to weave into one method.
   *
   * @param net the auto-fence's net (depth only) rather than a target's probe
   * @param id the method's id in the registry (probe only)
   * @param fallbackArgument the argument a {@code return-arg} fallback returns, or -1
   */
  record Weave(boolean net, int id, int fallbackArgument) {
    static final Weave NET = new Weave(true, -1, -1);

    static Weave probe(int id, int fallbackArgument) {
      return new Weave(false, id, fallbackArgument);
    }
  }

  /** Which methods get what; null: left as they are. */
  interface Plan {
    Weave of(int access, String name, String descriptor);
  }

  private final Map<String, Integer> maxLocals;
  private final Plan plan;
  private String owner;
  private boolean ownerIsInterface;
  private boolean pendingOnly;

  /** The method globs the pending entry is for; null: every method. */
  private List<dev.firebreak.rules.Glob> pendingMethods;

  private boolean frames;
  private int woven;

  private Weaver(ClassVisitor next, Map<String, Integer> maxLocals, Plan plan) {
    super(Opcodes.ASM9, next);
    this.maxLocals = maxLocals;
    this.plan = plan;
  }

  /**
   * The class file with the plan woven in, or null when the plan wove nothing.
   *
   * @param maxLocals {@code name + descriptor} of each method with code to its {@code max_locals}
   */
  static byte[] weave(ClassReader reader, Map<String, Integer> maxLocals, Plan plan) {
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
    Weaver weaver = new Weaver(writer, maxLocals, plan);
    reader.accept(weaver, ClassReader.EXPAND_FRAMES);
    return weaver.woven == 0 ? null : writer.toByteArray();
  }

  /**
   * The class file with the pending entry ({@code Probe.pending}) in every method a rule could
   * name, or null when it has none: {@code if (Probe.pending()) return thisMethod(arguments);}. A
   * class the rules may match loads at once while they are read; a call that comes before they are
   * in force waits there, then calls the method again, instrumented by then (the class is
   * retransformed before the wait ends). The re-call names this exact method ({@code
   * invokespecial}, not virtual), so an overriding method is not called instead.
   */
  static byte[] pending(byte[] classFile, List<dev.firebreak.rules.Glob> methodGlobs) {
    ClassReader reader = new ClassReader(classFile);
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
    Weaver weaver = new Weaver(writer, null, null);
    weaver.pendingOnly = true;
    weaver.pendingMethods = methodGlobs;
    reader.accept(weaver, ClassReader.EXPAND_FRAMES);
    return weaver.woven == 0 ? null : writer.toByteArray();
  }

  /** Concrete methods declared in source: no constructors, bridges or synthetic methods. */
  public static boolean selectable(int access, String name) {
    return (access
                & (Opcodes.ACC_ABSTRACT
                    | Opcodes.ACC_NATIVE
                    | Opcodes.ACC_BRIDGE
                    | Opcodes.ACC_SYNTHETIC))
            == 0
        && name.charAt(0) != '<';
  }

  @Override
  public void visit(
      int version, int access, String name, String signature, String superName, String[] ifaces) {
    owner = name;
    ownerIsInterface = (access & Opcodes.ACC_INTERFACE) != 0;
    frames = (version & 0xFFFF) >= Opcodes.V1_6;
    super.visit(version, access, name, signature, superName, ifaces);
  }

  @Override
  public MethodVisitor visitMethod(
      int access, String name, String descriptor, String signature, String[] exceptions) {
    MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
    if (mv == null || !selectable(access, name)) {
      return mv;
    }
    if (pendingOnly) {
      if (pendingMethods != null && !ClassGate.anyMatches(pendingMethods, name)) {
        return mv;
      }
      woven++;
      return new PendingMethod(mv, access, name, descriptor);
    }
    Integer max = maxLocals.get(name + descriptor);
    if (max == null) {
      return mv;
    }
    Weave weave = plan.of(access, name, descriptor);
    if (weave == null) {
      return mv;
    }
    woven++;
    return new WovenMethod(mv, access, descriptor, max, weave);
  }

  private final class WovenMethod extends MethodVisitor {
    private final boolean isStatic;
    private final Type[] args;
    private final Type returns;
    private final Weave weave;

    /**
     * The woven locals: the thread (or net cell), the token (or depth), the return value, a
     * throwable.
     */
    private final int slotA;

    private final int slotB;
    private final int slotReturn;
    private final int slotThrown;

    /** The woven entry's first instruction: it gets the line of the body's first one. */
    private final Label entry = new Label();

    private boolean lined;

    /** Where the body starts and the pieces of it the exit-on-throwable handler covers. */
    private Label segmentStart;

    private final List<Label[]> segments = new ArrayList<>();
    private final List<Label[]> exits = new ArrayList<>();

    WovenMethod(MethodVisitor mv, int access, String descriptor, int maxLocals, Weave weave) {
      super(Opcodes.ASM9, mv);
      this.isStatic = (access & Opcodes.ACC_STATIC) != 0;
      this.args = Type.getArgumentTypes(descriptor);
      this.returns = Type.getReturnType(descriptor);
      this.weave = weave;
      this.slotA = maxLocals;
      this.slotB = maxLocals + 1; // a long token: two slots
      this.slotReturn = maxLocals + 3; // up to two slots
      this.slotThrown = maxLocals + 5;
    }

    // ---------------------------------------------------------------- entry

    @Override
    public void visitCode() {
      super.visitCode();
      super.visitLabel(entry);
      Label enterStart = new Label();
      Label enterEnd = new Label();
      Label enterFailed = new Label();
      Label body = new Label();
      super.visitInsn(Opcodes.ACONST_NULL);
      super.visitVarInsn(Opcodes.ASTORE, slotA);
      if (weave.net()) {
        super.visitInsn(Opcodes.ICONST_0);
        super.visitVarInsn(Opcodes.ISTORE, slotB);
      } else {
        super.visitInsn(Opcodes.LCONST_0);
        super.visitVarInsn(Opcodes.LSTORE, slotB);
      }
      super.visitTryCatchBlock(enterStart, enterEnd, enterFailed, THROWABLE);
      super.visitLabel(enterStart);
      if (weave.net()) {
        super.visitMethodInsn(Opcodes.INVOKESTATIC, NET, "cell", "()[I", false);
        super.visitVarInsn(Opcodes.ASTORE, slotA);
        super.visitVarInsn(Opcodes.ALOAD, slotA);
        super.visitMethodInsn(Opcodes.INVOKESTATIC, NET, "enter", "([I)I", false);
        super.visitVarInsn(Opcodes.ISTORE, slotB);
        super.visitLabel(enterEnd);
        super.visitJumpInsn(Opcodes.GOTO, body);
      } else {
        super.visitMethodInsn(Opcodes.INVOKESTATIC, PROBE, "thread", "()Ljava/lang/Object;", false);
        super.visitVarInsn(Opcodes.ASTORE, slotA);
        pushInt(weave.id());
        if (args.length > 0 && isReference(args[0])) {
          super.visitVarInsn(Opcodes.ALOAD, isStatic ? 0 : 1);
        } else {
          super.visitInsn(Opcodes.ACONST_NULL);
        }
        super.visitVarInsn(Opcodes.ALOAD, slotA);
        super.visitMethodInsn(
            Opcodes.INVOKESTATIC,
            PROBE,
            "enter",
            "(ILjava/lang/Object;Ljava/lang/Object;)J",
            false);
        super.visitVarInsn(Opcodes.LSTORE, slotB);
        super.visitLabel(enterEnd);
        super.visitVarInsn(Opcodes.LLOAD, slotB);
        super.visitInsn(Opcodes.LCONST_0);
        super.visitInsn(Opcodes.LCMP);
        super.visitJumpInsn(Opcodes.IFNE, body);
        shortCircuit();
      }
      // the entry failed (a throwable out of the agent's calls): the body runs unwatched
      super.visitLabel(enterFailed);
      frame(entryLocals(), new Object[] {THROWABLE});
      super.visitInsn(Opcodes.POP);
      super.visitLabel(body);
      frame(entryLocals(), new Object[0]);
      super.visitInsn(
          Opcodes.NOP); // the body's own first frame, if any, needs an offset of its own
      segmentStart = body;
    }

    /** Returns the fallback Probe.shortCircuit gives (which throws a {@code throw} fallback). */
    private void shortCircuit() {
      pushInt(weave.id());
      int index = weave.fallbackArgument();
      if (index >= 0 && index < args.length) {
        super.visitVarInsn(args[index].getOpcode(Opcodes.ILOAD), argumentSlot(index));
        box(args[index]);
      } else {
        super.visitInsn(Opcodes.ACONST_NULL);
      }
      super.visitMethodInsn(
          Opcodes.INVOKESTATIC,
          PROBE,
          "shortCircuit",
          "(ILjava/lang/Object;)Ljava/lang/Object;",
          false);
      if (returns.getSort() == Type.VOID) {
        super.visitInsn(Opcodes.POP);
      } else {
        unboxOrCast(returns);
      }
      super.visitInsn(returns.getOpcode(Opcodes.IRETURN));
    }

    // ---------------------------------------------------------------- the body

    @Override
    public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
      if (!frames) {
        return;
      }
      // expanded (F_NEW) frames: the body's locals, then the woven ones
      List<Object> l = new ArrayList<>(numLocal + 8);
      int slots = 0;
      for (int i = 0; i < numLocal; i++) {
        l.add(local[i]);
        slots += local[i] == Opcodes.LONG || local[i] == Opcodes.DOUBLE ? 2 : 1;
      }
      padTo(l, slots);
      addWoven(l);
      super.visitFrame(Opcodes.F_NEW, l.size(), l.toArray(), numStack, stack);
    }

    @Override
    public void visitLineNumber(int line, Label start) {
      if (!lined) {
        // a stack trace taken inside the woven entry (an alert's) names the method's first line
        lined = true;
        super.visitLineNumber(line, entry);
      }
      super.visitLineNumber(line, start);
    }

    @Override
    public void visitInsn(int opcode) {
      if (opcode < Opcodes.IRETURN || opcode > Opcodes.RETURN) {
        super.visitInsn(opcode);
        return;
      }
      // a return: the exit first, outside the exit-on-throwable handler's cover
      Label segmentEnd = new Label();
      super.visitLabel(segmentEnd);
      segments.add(new Label[] {segmentStart, segmentEnd});
      boolean value = opcode != Opcodes.RETURN;
      if (value) {
        super.visitVarInsn(returns.getOpcode(Opcodes.ISTORE), slotReturn);
      }
      Label exitStart = new Label();
      Label exitEnd = new Label();
      super.visitLabel(exitStart);
      exitCall();
      super.visitLabel(exitEnd);
      exits.add(new Label[] {exitStart, exitEnd});
      if (value) {
        super.visitVarInsn(returns.getOpcode(Opcodes.ILOAD), slotReturn);
      }
      super.visitInsn(opcode);
      segmentStart = new Label();
      super.visitLabel(segmentStart);
    }

    private void exitCall() {
      if (weave.net()) {
        super.visitVarInsn(Opcodes.ALOAD, slotA);
        super.visitVarInsn(Opcodes.ILOAD, slotB);
        super.visitMethodInsn(Opcodes.INVOKESTATIC, NET, "exit", "([II)V", false);
      } else {
        pushInt(weave.id());
        super.visitVarInsn(Opcodes.LLOAD, slotB);
        super.visitVarInsn(Opcodes.ALOAD, slotA);
        super.visitMethodInsn(
            Opcodes.INVOKESTATIC, PROBE, "exit", "(IJLjava/lang/Object;)V", false);
      }
    }

    // ---------------------------------------------------------------- the exits, at the end

    @Override
    public void visitMaxs(int maxStack, int maxLocals) {
      Label bodyEnd = new Label();
      super.visitLabel(bodyEnd);
      segments.add(new Label[] {segmentStart, bodyEnd});
      Label exitFailed = new Label();
      if (!exits.isEmpty()) {
        // the exit at a return failed: return what the body returned
        super.visitLabel(exitFailed);
        frame(exitLocals(true, false), new Object[] {THROWABLE});
        super.visitInsn(Opcodes.POP);
        if (returns.getSort() != Type.VOID) {
          super.visitVarInsn(returns.getOpcode(Opcodes.ILOAD), slotReturn);
        }
        super.visitInsn(returns.getOpcode(Opcodes.IRETURN));
      }
      // a throwable out of the body: the exit, then the throwable goes on
      Label thrown = new Label();
      Label thrownExitStart = new Label();
      Label thrownExitEnd = new Label();
      Label thrownExitFailed = new Label();
      super.visitLabel(thrown);
      frame(exitLocals(false, false), new Object[] {THROWABLE});
      super.visitVarInsn(Opcodes.ASTORE, slotThrown);
      super.visitLabel(thrownExitStart);
      exitCall();
      if (weave.net()) {
        super.visitVarInsn(Opcodes.ALOAD, slotThrown);
        super.visitMethodInsn(
            Opcodes.INVOKESTATIC, NET, "thrown", "(Ljava/lang/Throwable;)V", false);
      }
      super.visitLabel(thrownExitEnd);
      super.visitVarInsn(Opcodes.ALOAD, slotThrown);
      super.visitInsn(Opcodes.ATHROW);
      super.visitLabel(thrownExitFailed);
      frame(exitLocals(false, true), new Object[] {THROWABLE});
      super.visitInsn(Opcodes.POP);
      super.visitVarInsn(Opcodes.ALOAD, slotThrown);
      super.visitInsn(Opcodes.ATHROW);

      // after the body's own handlers, so that they keep catching first what they caught
      for (Label[] e : exits) {
        super.visitTryCatchBlock(e[0], e[1], exitFailed, THROWABLE);
      }
      super.visitTryCatchBlock(thrownExitStart, thrownExitEnd, thrownExitFailed, THROWABLE);
      for (Label[] s : segments) {
        if (s[0].getOffset() < s[1].getOffset()) {
          super.visitTryCatchBlock(s[0], s[1], thrown, THROWABLE);
        }
      }
      super.visitMaxs(maxStack, maxLocals);
    }

    // ---------------------------------------------------------------- frames

    /** The locals at entry: the parameters, nothing else of the body's, the woven ones. */
    private List<Object> entryLocals() {
      List<Object> l = parameterLocals(isStatic, args);
      padTo(l, argumentSlot(args.length)); // the slots the parameters take
      addWoven(l);
      return l;
    }

    /** The locals at the exits: only the woven ones (the body's are not read there). */
    private List<Object> exitLocals(boolean returnValue, boolean thrownValue) {
      List<Object> l = new ArrayList<>();
      padTo(l, 0);
      addWoven(l);
      if (returnValue && returns.getSort() != Type.VOID) {
        l.add(frameType(returns));
        if (returns.getSize() == 1) {
          l.add(Opcodes.TOP);
        }
      } else {
        l.add(Opcodes.TOP);
        l.add(Opcodes.TOP);
      }
      if (thrownValue) {
        l.add(THROWABLE);
      }
      return l;
    }

    private void padTo(List<Object> l, int slots) {
      for (int s = slots; s < slotA; s++) {
        l.add(Opcodes.TOP);
      }
    }

    private void addWoven(List<Object> l) {
      if (weave.net()) {
        l.add("[I");
        l.add(Opcodes.INTEGER);
        l.add(Opcodes.TOP);
      } else {
        l.add(OBJECT);
        l.add(Opcodes.LONG);
      }
    }

    private void frame(List<Object> locals, Object[] stack) {
      if (frames) {
        super.visitFrame(Opcodes.F_NEW, locals.size(), locals.toArray(), stack.length, stack);
      }
    }

    // ---------------------------------------------------------------- helpers

    private int argumentSlot(int index) {
      int slot = isStatic ? 0 : 1;
      for (int i = 0; i < index; i++) {
        slot += args[i].getSize();
      }
      return slot;
    }

    private void pushInt(int v) {
      if (v >= -1 && v <= 5) {
        super.visitInsn(Opcodes.ICONST_0 + v);
      } else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
        super.visitIntInsn(Opcodes.BIPUSH, v);
      } else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
        super.visitIntInsn(Opcodes.SIPUSH, v);
      } else {
        super.visitLdcInsn(v);
      }
    }

    private void box(Type t) {
      String wrapper = wrapper(t);
      if (wrapper != null) {
        super.visitMethodInsn(
            Opcodes.INVOKESTATIC,
            wrapper,
            "valueOf",
            "(" + t.getDescriptor() + ")L" + wrapper + ";",
            false);
      }
    }

    private void unboxOrCast(Type t) {
      String wrapper = wrapper(t);
      if (wrapper != null) {
        super.visitTypeInsn(Opcodes.CHECKCAST, wrapper);
        super.visitMethodInsn(
            Opcodes.INVOKEVIRTUAL,
            wrapper,
            t.getClassName() + "Value",
            "()" + t.getDescriptor(),
            false);
      } else if (!t.getInternalName().equals(OBJECT)) {
        super.visitTypeInsn(Opcodes.CHECKCAST, t.getInternalName());
      }
    }
  }

  /**
   * The pending entry: waits while the agent starts, then calls the (instrumented) method again.
   */
  private final class PendingMethod extends MethodVisitor {
    private final int access;
    private final String name;
    private final String descriptor;
    private final Label entry = new Label();
    private boolean lined;

    PendingMethod(MethodVisitor mv, int access, String name, String descriptor) {
      super(Opcodes.ASM9, mv);
      this.access = access;
      this.name = name;
      this.descriptor = descriptor;
    }

    @Override
    public void visitCode() {
      super.visitCode();
      super.visitLabel(entry);
      Label body = new Label();
      super.visitMethodInsn(Opcodes.INVOKESTATIC, PROBE, "pending", "()Z", false);
      super.visitJumpInsn(Opcodes.IFEQ, body);
      boolean isStatic = (access & Opcodes.ACC_STATIC) != 0;
      int slot = 0;
      if (!isStatic) {
        super.visitVarInsn(Opcodes.ALOAD, 0);
        slot = 1;
      }
      Type[] args = Type.getArgumentTypes(descriptor);
      for (Type a : args) {
        super.visitVarInsn(a.getOpcode(Opcodes.ILOAD), slot);
        slot += a.getSize();
      }
      super.visitMethodInsn(
          isStatic ? Opcodes.INVOKESTATIC : Opcodes.INVOKESPECIAL,
          owner,
          name,
          descriptor,
          ownerIsInterface);
      super.visitInsn(Type.getReturnType(descriptor).getOpcode(Opcodes.IRETURN));
      super.visitLabel(body);
      if (frames) {
        List<Object> locals = parameterLocals(isStatic, args);
        super.visitFrame(Opcodes.F_NEW, locals.size(), locals.toArray(), 0, new Object[0]);
      }
      super.visitInsn(
          Opcodes.NOP); // the body's own first frame, if any, needs an offset of its own
    }

    @Override
    public void visitLineNumber(int line, Label start) {
      if (!lined) {
        lined = true;
        super.visitLineNumber(line, entry);
      }
      super.visitLineNumber(line, start);
    }
  }

  /** The frame types of a method's parameters, {@code this} first (a frame's locals at entry). */
  private List<Object> parameterLocals(boolean isStatic, Type[] args) {
    List<Object> l = new ArrayList<>();
    if (!isStatic) {
      l.add(owner);
    }
    for (Type a : args) {
      l.add(frameType(a));
    }
    return l;
  }

  private static boolean isReference(Type t) {
    return t.getSort() == Type.OBJECT || t.getSort() == Type.ARRAY;
  }

  private static Object frameType(Type t) {
    switch (t.getSort()) {
      case Type.BOOLEAN:
      case Type.CHAR:
      case Type.BYTE:
      case Type.SHORT:
      case Type.INT:
        return Opcodes.INTEGER;
      case Type.FLOAT:
        return Opcodes.FLOAT;
      case Type.LONG:
        return Opcodes.LONG;
      case Type.DOUBLE:
        return Opcodes.DOUBLE;
      case Type.ARRAY:
        return t.getDescriptor();
      default:
        return t.getInternalName();
    }
  }

  private static String wrapper(Type t) {
    switch (t.getSort()) {
      case Type.BOOLEAN:
        return "java/lang/Boolean";
      case Type.CHAR:
        return "java/lang/Character";
      case Type.BYTE:
        return "java/lang/Byte";
      case Type.SHORT:
        return "java/lang/Short";
      case Type.INT:
        return "java/lang/Integer";
      case Type.FLOAT:
        return "java/lang/Float";
      case Type.LONG:
        return "java/lang/Long";
      case Type.DOUBLE:
        return "java/lang/Double";
      default:
        return null;
    }
  }
}
