package dev.firebreak.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.firebreak.rules.RuleError;
import dev.firebreak.rules.RulesException;
import dev.firebreak.rules.RulesParser;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * {@code attach [<pid> RULES.yaml | <pid> --detach]}: loads the agent into a running JVM through
 * the Attach API. A JVM that already runs the agent gets the new rules instead of a second agent;
 * {@code --detach} drops every rule and restores the original bytecode. Without a pid it lists the
 * JVMs it can see, like {@code jcmd}.
 */
public final class AttachCommand {
  static final String USAGE =
      "usage: java -jar firebreak-agent.jar attach [<pid> RULES.yaml | <pid> --detach]";

  private AttachCommand() {}

  public static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty()) {
      for (VirtualMachineDescriptor d : VirtualMachine.list()) {
        out.println(
            d.id() + " " + (d.displayName().isBlank() ? "(unknown main class)" : d.displayName()));
      }
      return 0;
    }
    String pid = args.get(0);
    if (!pid.matches("\\d+") || args.size() != 2) {
      err.println(USAGE);
      return 2;
    }
    boolean detach = args.get(1).equals("--detach");
    String agentArgs;
    if (detach) {
      agentArgs = "detach=true";
    } else {
      Path rules = Path.of(args.get(1)).toAbsolutePath();
      try {
        RulesParser.parse(rules);
      } catch (RulesException e) {
        for (RuleError error : e.errors()) {
          out.println(error);
        }
        err.println("firebreak: the rules are invalid; nothing was attached");
        return 1;
      }
      if (rules.toString().contains(",")) {
        err.println("firebreak: the rules file's path must not contain a comma: " + rules);
        return 2;
      }
      agentArgs = "rules=" + rules;
    }
    String jar;
    try {
      File self =
          new File(AttachCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!self.isFile()) {
        err.println(
            "firebreak: attach must run from the agent jar (java -jar firebreak-agent.jar attach ...)");
        return 2;
      }
      jar = self.getAbsolutePath();
    } catch (Exception e) {
      err.println("firebreak: cannot locate the agent jar: " + e);
      return 2;
    }
    VirtualMachine vm;
    try {
      vm = VirtualMachine.attach(pid);
    } catch (AttachNotSupportedException | IOException e) {
      err.println(
          "firebreak: cannot attach to pid "
              + pid
              + ": "
              + e.getMessage()
              + " (no such JVM, a JVM of another user, or one started with -XX:+DisableAttachMechanism)");
      return 1;
    }
    try {
      vm.loadAgent(jar, agentArgs);
      Properties p = vm.getSystemProperties();
      String status = p.getProperty("firebreak.status", "unknown");
      String sha = p.getProperty("firebreak.rules.sha256", "");
      out.println(
          "firebreak: pid "
              + pid
              + ": "
              + status
              + (sha.isEmpty()
                  ? ""
                  : ", rules "
                      + p.getProperty("firebreak.rules.source", "")
                      + " (sha256 "
                      + sha
                      + ")"));
      return status.startsWith("running") || status.equals("detached") ? 0 : 1;
    } catch (AgentLoadException | AgentInitializationException | IOException e) {
      err.println("firebreak: the JVM " + pid + " refused the agent: " + e.getMessage());
      return 1;
    } finally {
      try {
        vm.detach();
      } catch (IOException ignored) {
        // the target went away; nothing to release
      }
    }
  }
}
