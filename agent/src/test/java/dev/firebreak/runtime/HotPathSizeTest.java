package dev.firebreak.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/**
 * The hot path is compiled into every instrumented method only if C2 may inline it: a hot callee
 * must stay within {@code -XX:FreqInlineSize} (325 bytecode bytes on x86-64). Before the rare paths
 * of {@link Engine#enter(int, Object, Object)} moved into their own methods it was 644 bytes,
 * stayed a real call, and the 2-thread benchmark cost 12 % more per call than 1 thread
 * (benchmarks/README.md). This keeps the next change from undoing that unnoticed.
 */
class HotPathSizeTest {
  static final int FREQ_INLINE_SIZE = 325;

  @Test
  void enterAndExitStayWithinC2sInliningLimitForHotMethods() throws IOException {
    Map<String, Integer> sizes = codeSizes(Engine.class);
    assertThat(sizes.get("enter(ILjava/lang/Object;Ljava/lang/Object;)J"))
        .isNotNull()
        .isLessThanOrEqualTo(FREQ_INLINE_SIZE);
    assertThat(sizes.get("exit(IJLjava/lang/Object;)V"))
        .isNotNull()
        .isLessThanOrEqualTo(FREQ_INLINE_SIZE);
  }

  /**
   * Bytecode length of every method of {@code type}, by name and descriptor: each method is written
   * again by ASM with a label after its last instruction, whose offset is the length.
   */
  static Map<String, Integer> codeSizes(Class<?> type) throws IOException {
    Map<String, Integer> sizes = new HashMap<>();
    String resource = type.getName().replace('.', '/') + ".class";
    try (InputStream in = type.getClassLoader().getResourceAsStream(resource)) {
      new ClassReader(in.readAllBytes())
          .accept(
              new ClassVisitor(Opcodes.ASM9, new ClassWriter(0)) {
                @Override
                public MethodVisitor visitMethod(
                    int access,
                    String name,
                    String descriptor,
                    String signature,
                    String[] exceptions) {
                  String key = name + descriptor;
                  return new MethodVisitor(
                      Opcodes.ASM9,
                      super.visitMethod(access, name, descriptor, signature, exceptions)) {
                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                      Label end = new Label();
                      visitLabel(end);
                      sizes.put(key, end.getOffset());
                      super.visitMaxs(maxStack, maxLocals);
                    }
                  };
                }
              },
              0);
    }
    return sizes;
  }
}
