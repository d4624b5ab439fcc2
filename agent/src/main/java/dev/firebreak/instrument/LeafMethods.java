package dev.firebreak.instrument;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * The methods of a class file that can take part in neither a recursion nor a loop: no invoke
 * instruction (of any kind) and no backward jump. Getters, setters and arithmetic leaves: a broad
 * target (a method glob) leaves them out unless it sets {@code leaves: true}, since watching them
 * costs on every call and can never catch a runaway.
 */
final class LeafMethods {
  private LeafMethods() {}

  /**
   * What the weaver needs to know of a class file's methods before it weaves them.
   *
   * @param leaves {@code name + descriptor} of every leaf method
   * @param maxLocals {@code name + descriptor} of every method with code to its {@code max_locals}
   */
  record Facts(Set<String> leaves, Map<String, Integer> maxLocals) {}

  /** {@code name + descriptor} of every leaf method of {@code classFile}; empty if unreadable. */
  static Set<String> of(byte[] classFile) {
    return scan(classFile).leaves();
  }

  /** One look at the class file; no leaves and no methods if it cannot be read. */
  static Facts scan(byte[] classFile) {
    Set<String> leaves = new HashSet<>();
    Map<String, Integer> maxLocals = new HashMap<>();
    try {
      new ClassReader(classFile)
          .accept(
              new ClassVisitor(Opcodes.ASM9) {
                @Override
                public MethodVisitor visitMethod(
                    int access, String name, String desc, String signature, String[] exceptions) {
                  String key = name + desc;
                  leaves.add(key);
                  return new MethodVisitor(Opcodes.ASM9) {
                    private final Set<Label> seen = new HashSet<>();

                    @Override
                    public void visitMaxs(int maxStack, int locals) {
                      maxLocals.put(key, locals);
                    }

                    @Override
                    public void visitLabel(Label label) {
                      seen.add(label);
                    }

                    @Override
                    public void visitJumpInsn(int opcode, Label label) {
                      if (seen.contains(label)) {
                        leaves.remove(key); // a backward jump: a loop
                      }
                    }

                    @Override
                    public void visitTableSwitchInsn(
                        int min, int max, Label dflt, Label... labels) {
                      backward(dflt, labels);
                    }

                    @Override
                    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
                      backward(dflt, labels);
                    }

                    private void backward(Label dflt, Label[] labels) {
                      boolean back = seen.contains(dflt);
                      for (Label l : labels) {
                        back |= seen.contains(l);
                      }
                      if (back) {
                        leaves.remove(key);
                      }
                    }

                    @Override
                    public void visitMethodInsn(
                        int opcode, String owner, String n, String d, boolean itf) {
                      leaves.remove(key);
                    }

                    @Override
                    public void visitInvokeDynamicInsn(
                        String n, String d, Handle bsm, Object... bsmArgs) {
                      leaves.remove(key);
                    }
                  };
                }
              },
              ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    } catch (RuntimeException e) {
      leaves.clear(); // a class file we cannot read: leave nothing out
      maxLocals.clear(); // and weave nothing
    }
    return new Facts(leaves, maxLocals);
  }
}
