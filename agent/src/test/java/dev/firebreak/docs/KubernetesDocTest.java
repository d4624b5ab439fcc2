package dev.firebreak.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.firebreak.cli.ExportPrometheusRulesCommand;
import dev.firebreak.rules.RulesParser;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What can be checked of {@code docs/kubernetes.md} without a cluster: the manifests are YAML, the
 * ConfigMap's rules are valid, the agent options name the file the ConfigMap is mounted as and the
 * port the monitors scrape, the Alertmanager configuration is one Alertmanager accepts, and the
 * export wrapped as a PrometheusRule is one YAML document. The reload through the ConfigMap's
 * {@code ..data} link is {@code ConfigMapReloadIT}'s.
 */
class KubernetesDocTest {
  static final Pattern YAML_BLOCK = Pattern.compile("(?s)```yaml\\n(.*?)```");
  static final Pattern JAVAAGENT = Pattern.compile("-javaagent:(\\S+?\\.jar)=(\\S+)");

  /** The page's YAML blocks by their first line, {@code # NAME} (e.g. "configmap.yaml"). */
  static Map<String, String> blocks;

  @TempDir Path dir;

  static Path repoFile(String relative) {
    Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    Path p = base.resolveSibling(relative);
    return Files.exists(p) ? p : base.resolve(relative); // run from the repository root
  }

  @BeforeAll
  static void readThePage() throws IOException {
    String page = Files.readString(repoFile("docs/kubernetes.md"), StandardCharsets.UTF_8);
    blocks = new LinkedHashMap<>();
    Matcher m = YAML_BLOCK.matcher(page);
    while (m.find()) {
      String block = m.group(1);
      String first = block.lines().findFirst().orElse("");
      assertThat(first)
          .as("a YAML block of docs/kubernetes.md starts with '# NAME'")
          .startsWith("# ");
      blocks.put(first.substring(2).split("[ :]")[0], block);
    }
  }

  static Yaml yaml() {
    return new Yaml(new SafeConstructor(new LoaderOptions()));
  }

  static List<Map<String, Object>> documents(String name) {
    String block = blocks.get(name);
    assertThat(block).as("docs/kubernetes.md has a YAML block '# %s'", name).isNotNull();
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object d : yaml().loadAll(block)) {
      docs.add(map(d));
    }
    return docs;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  static Object at(Map<String, Object> m, String... path) {
    Object o = m;
    for (String key : path) {
      o = map(o).get(key);
      assertThat(o).as("key %s of %s", key, String.join(".", path)).isNotNull();
    }
    return o;
  }

  /** The named item of a list of mappings ({@code containers}, {@code volumes}, {@code ports}). */
  static Map<String, Object> named(Object items, String name) {
    for (Object o : list(items)) {
      if (name.equals(map(o).get("name"))) {
        return map(o);
      }
    }
    return fail("no item named " + name + " in " + items);
  }

  @Test
  void everyYamlBlockParses() {
    assertThat(blocks)
        .containsKeys(
            "deployment.yaml",
            "configmap.yaml",
            "podmonitor.yaml",
            "servicemonitor.yaml",
            "alertmanager.yml");
    for (Map.Entry<String, String> b : blocks.entrySet()) {
      assertThat(yaml().loadAll(b.getValue())).as(b.getKey()).isNotEmpty();
    }
  }

  @Test
  void theConfigMapHoldsValidRules() throws Exception {
    String rules = (String) at(documents("configmap.yaml").get(0), "data", "rules.yaml");
    assertThat(
            RulesParser.parse("configmap rules.yaml", rules.getBytes(StandardCharsets.UTF_8))
                .targets())
        .isNotEmpty();
  }

  @Test
  void theAgentOptionsNameTheMountedRulesTheCopiedJarAndTheScrapedPort() {
    Map<String, Object> deployment = documents("deployment.yaml").get(0);
    Map<String, Object> configMap = documents("configmap.yaml").get(0);
    Map<String, Object> pod = map(at(deployment, "spec", "template", "spec"));
    Map<String, Object> chat = named(pod.get("containers"), "chat");
    Matcher agent =
        JAVAAGENT.matcher((String) named(chat.get("env"), "JAVA_TOOL_OPTIONS").get("value"));
    assertThat(agent.find()).isTrue();
    Map<String, String> options = new LinkedHashMap<>();
    for (String pair : agent.group(2).split(",")) {
      String[] kv = pair.split("=", 2);
      options.put(kv[0], kv[1]);
    }
    assertThat(options.keySet())
        .as("agent options of docs/reference.md")
        .isSubsetOf("rules", "port", "host", "startup");

    // rules= is the ConfigMap's key in the directory it is mounted at
    String volume = null;
    for (Object v : list(pod.get("volumes"))) {
      Object cm = map(v).get("configMap");
      if (cm != null && map(cm).get("name").equals(at(configMap, "metadata", "name"))) {
        volume = (String) map(v).get("name");
      }
    }
    assertThat(volume).as("a volume of the ConfigMap").isNotNull();
    String mountPath = (String) named(chat.get("volumeMounts"), volume).get("mountPath");
    assertThat(named(chat.get("volumeMounts"), volume))
        .doesNotContainKey("subPath"); // a subPath mount never updates
    assertThat(options.get("rules"))
        .isEqualTo(mountPath + "/" + map(at(configMap, "data")).keySet().iterator().next());

    // the jar is where the init container copies it, in a volume both mount
    Map<String, Object> init = map(list(pod.get("initContainers")).get(0));
    List<Object> command = list(init.get("command"));
    assertThat(command.get(command.size() - 1)).isEqualTo(agent.group(1));
    String jarDir = agent.group(1).substring(0, agent.group(1).lastIndexOf('/'));
    assertThat(map(list(init.get("volumeMounts")).get(0)).get("mountPath")).isEqualTo(jarDir);
    assertThat(
            named(
                    chat.get("volumeMounts"),
                    (String) map(list(init.get("volumeMounts")).get(0)).get("name"))
                .get("mountPath"))
        .isEqualTo(jarDir);

    // the monitors scrape the port the agent serves on, of the pods the deployment makes
    Map<String, Object> port = named(chat.get("ports"), "firebreak-metrics");
    assertThat(port.get("containerPort")).isEqualTo(Integer.parseInt(options.get("port")));
    Object podLabels = at(deployment, "spec", "template", "metadata", "labels");
    Map<String, Object> podMonitor = documents("podmonitor.yaml").get(0);
    assertThat(at(podMonitor, "spec", "selector", "matchLabels")).isEqualTo(podLabels);
    assertThat(map(list(at(podMonitor, "spec", "podMetricsEndpoints")).get(0)).get("port"))
        .isEqualTo("firebreak-metrics");
    List<Map<String, Object>> service = documents("servicemonitor.yaml");
    assertThat(at(service.get(0), "spec", "selector")).isEqualTo(podLabels);
    Map<String, Object> servicePort =
        named(at(service.get(0), "spec", "ports"), "firebreak-metrics");
    assertThat(servicePort.get("targetPort")).isEqualTo("firebreak-metrics");
    assertThat(map(list(at(service.get(1), "spec", "endpoints")).get(0)).get("port"))
        .isEqualTo("firebreak-metrics");
  }

  @Test
  void theExportWrappedAsAPrometheusRuleIsOneDocument() throws Exception {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(rules, (String) at(documents("configmap.yaml").get(0), "data", "rules.yaml"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        ExportPrometheusRulesCommand.run(
            List.of("--selector", "job=\"chat\",namespace=\"chat\"", rules.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertThat(code).isZero();
    // what the page's printf and sed 's/^/  /' make of it
    String wrapped =
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n"
            + "metadata:\n  name: chat-firebreak\n  namespace: chat\n  labels: {release: prometheus}\nspec:\n"
            + out.toString(StandardCharsets.UTF_8).replaceAll("(?m)^", "  ");
    Map<String, Object> rule = map(yaml().load(wrapped));
    assertThat(rule.get("kind")).isEqualTo("PrometheusRule");
    assertThat(list(at(rule, "spec", "groups"))).isNotEmpty();
  }

  @Test
  void amtoolAcceptsTheAlertmanagerConfiguration() throws Exception {
    Path amtool = amtool();
    Path config = dir.resolve("alertmanager.yml");
    Files.writeString(config, blocks.get("alertmanager.yml"));
    Process p =
        new ProcessBuilder(amtool.toString(), "check-config", config.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("amtool check-config:%n%s", output).isZero();
    assertThat(output).contains("SUCCESS");
  }

  static Path amtool() {
    for (String dirName : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dirName.isEmpty() ? "." : dirName, "amtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    String reason = "amtool is not installed (Debian package 'prometheus-alertmanager')";
    if (System.getenv("CI") != null) {
      fail(reason + "; CI is set, so this is a failure, not a skip");
    }
    Assumptions.assumeTrue(false, reason);
    return null;
  }
}
