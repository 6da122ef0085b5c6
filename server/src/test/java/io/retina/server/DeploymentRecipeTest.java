package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The deployment recipe in {@code deploy/} (docs/deploy.md) agrees with the node it deploys, as far
 * as a machine without Docker or Kubernetes can tell: the manifests and the Dockerfile are parsed,
 * and every setting, port, path, role, address and timeout in them is checked against the node's
 * real configuration (this module's {@code application.conf} and its includes, resolved as the node
 * resolves them, with each container's environment), its routes and its build. Nothing is built or
 * run: a test here cannot tell whether an image builds or a cluster starts.
 */
class DeploymentRecipeTest {
  private static final Path ROOT = Path.of("..");
  private static final Path DEPLOY = ROOT.resolve("deploy");
  private static final Path DOCKERFILE = DEPLOY.resolve("Dockerfile");
  private static final Path DOCKERIGNORE = DEPLOY.resolve("Dockerfile.dockerignore");
  private static final Path MANIFESTS = DEPLOY.resolve("kubernetes");
  private static final Path WORKER_MANIFEST = MANIFESTS.resolve("worker.yaml");
  private static final Path CONF_DIR = Path.of("src/main/resources");
  private static final Path SERVER_SOURCES = Path.of("src/main/java");
  private static final Path OPS_ROUTES =
      ROOT.resolve("api/src/main/java/io/retina/api/ops/OpsRoutes.java");
  private static final Path WORKER_OPS_ROUTES =
      ROOT.resolve("api/src/main/java/io/retina/api/ops/WorkerOpsRoutes.java");
  private static final Path DEPLOY_DOC = ROOT.resolve("docs/deploy.md");

  /** The secret settings: never a literal in a manifest, always from the Secret. */
  private static final Set<String> SECRET_SETTINGS =
      Set.of("RETINA_DB_PASSWORD", "RETINA_ADMIN_TOKEN");

  private static final String SECRET_NAME = "retina-secrets";

  private static final Pattern RETINA_NAME = Pattern.compile("\\bRETINA_[A-Z0-9_]+\\b");

  /** What a substitution resolves to when a test only asks which paths an env variable feeds. */
  private static final String PROBE = "probe-7f3a";

  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<JsonNode> manifests;
  private static List<JsonNode> gpuVariant;
  private static Dockerfile dockerfile;
  private static Set<String> knownSettings;
  private static Set<String> servedPaths;
  private static String readinessPath;
  private static Set<String> workerServedPaths;
  private static String workerReadinessPath;
  private static Config reference;

  @BeforeAll
  static void load() throws IOException {
    manifests = new ArrayList<>();
    try (Stream<Path> files = Files.list(MANIFESTS)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        manifests.addAll(parseYaml(Files.readString(f)));
      }
    }
    gpuVariant = parseYaml(commentedVariant(Files.readString(WORKER_MANIFEST)));
    dockerfile = Dockerfile.parse(Files.readString(DOCKERFILE));
    knownSettings = knownSettings();
    String ops = Files.readString(OPS_ROUTES);
    servedPaths = servedPaths(ops);
    Matcher ready =
        Pattern.compile(
                "path\\(\\s*PathMatchers\\.segment\\(\"([^\"]+)\"\\)\\.slash\\(\"([^\"]+)\"\\)"
                    + "\\s*,\\s*\\(\\)\\s*->\\s*get\\(this::ready\\)")
            .matcher(ops);
    assertTrue(ready.find(), "no readiness route found in " + OPS_ROUTES);
    readinessPath = "/" + ready.group(1) + "/" + ready.group(2);
    // a node without the api role serves only WorkerOpsRoutes on its HTTP port (Guardian)
    assertTrue(
        Files.readString(SERVER_SOURCES.resolve("io/retina/server/Guardian.java"))
            .contains("new WorkerOpsRoutes("),
        "Guardian no longer serves WorkerOpsRoutes on a worker-only node");
    String workerOps = Files.readString(WORKER_OPS_ROUTES);
    workerServedPaths = servedPaths(workerOps);
    // its readiness route: the one that can answer 503
    workerReadinessPath = null;
    Matcher workerReady =
        Pattern.compile(
                "PathMatchers\\.segment\\(\"([^\"]+)\"\\)\\.slash\\(\"([^\"]+)\"\\)"
                    + "((?:(?!\\bpath\\().)*)",
                Pattern.DOTALL)
            .matcher(workerOps);
    while (workerReady.find()) {
      if (workerReady.group(3).contains("503")) {
        assertEquals(null, workerReadinessPath, "two routes answer 503 in " + WORKER_OPS_ROUTES);
        workerReadinessPath = "/" + workerReady.group(1) + "/" + workerReady.group(2);
      }
    }
    assertNotNull(workerReadinessPath, "no readiness route found in " + WORKER_OPS_ROUTES);
    reference = ConfigFactory.defaultReference().withFallback(ConfigFactory.systemProperties());
  }

  // ---- the manifests ----

  @Test
  void manifestsHoldTheApiTierTheWorkersAndTheirServices() {
    for (JsonNode doc : all()) {
      assertFalse(doc.path("apiVersion").asText().isEmpty(), "no apiVersion: " + doc);
      assertFalse(doc.path("kind").asText().isEmpty(), "no kind: " + doc);
      assertFalse(doc.at("/metadata/name").asText().isEmpty(), "no name: " + doc);
    }
    assertEquals(1, ofKind(manifests, "ConfigMap").size());
    assertEquals(1, ofKind(manifests, "Deployment").size());
    assertEquals(1, ofKind(manifests, "StatefulSet").size());
    assertEquals(2, ofKind(manifests, "Service").size());
    assertEquals(2, ofKind(manifests, "PodDisruptionBudget").size());
    assertEquals(
        List.of("StatefulSet", "PodDisruptionBudget"),
        gpuVariant.stream().map(d -> d.path("kind").asText()).toList(),
        "the commented GPU variant at the end of worker.yaml");
    Set<String> names = new TreeSet<>();
    for (JsonNode doc : all()) {
      assertTrue(names.add(doc.path("kind").asText() + "/" + doc.at("/metadata/name").asText()));
    }
  }

  @Test
  void usesOnlySettingsTheNodeReads() throws IOException {
    Map<String, String> texts = new LinkedHashMap<>();
    for (Path f : recipeFiles()) {
      texts.put(f.toString(), Files.readString(f));
    }
    texts.put(DEPLOY_DOC.toString(), Files.readString(DEPLOY_DOC));
    List<String> unknown = new ArrayList<>();
    texts.forEach(
        (file, text) -> {
          Matcher m = RETINA_NAME.matcher(text);
          while (m.find()) {
            if (!knownSettings.contains(m.group())) {
              unknown.add(file + ": " + m.group());
            }
          }
        });
    assertEquals(List.of(), unknown, "settings the node does not read; it reads " + knownSettings);
    // and the ones the manifests set are all there, parsed
    for (JsonNode workload : workloads(all())) {
      for (JsonNode c : containers(workload)) {
        for (String name : env(workload, c, podName(workload, 0)).keySet()) {
          if (name.startsWith("RETINA_")) {
            assertTrue(knownSettings.contains(name), name);
          }
        }
      }
    }
  }

  @Test
  void secretsComeFromTheSecretAndWorkersHoldNoAdminToken() {
    for (JsonNode cm : ofKind(manifests, "ConfigMap")) {
      for (var e : cm.path("data").properties()) {
        assertFalse(SECRET_SETTINGS.contains(e.getKey()), e.getKey() + " in ConfigMap " + name(cm));
      }
    }
    for (JsonNode workload : workloads(all())) {
      JsonNode c = mainContainer(workload);
      Set<String> roles = roles(workload);
      Map<String, JsonNode> vars = new LinkedHashMap<>();
      c.path("env").forEach(e -> vars.put(e.path("name").asText(), e));
      for (String secret : SECRET_SETTINGS) {
        JsonNode e = vars.get(secret);
        if (e != null) {
          assertTrue(
              e.path("value").isMissingNode(), secret + " is a literal in " + name(workload));
          assertEquals(
              SECRET_NAME,
              e.at("/valueFrom/secretKeyRef/name").asText(),
              secret + " of " + name(workload));
          assertFalse(e.at("/valueFrom/secretKeyRef/key").asText().isEmpty());
        }
      }
      Map<String, String> env = env(workload, c, podName(workload, 0));
      assertFalse(
          env.getOrDefault("RETINA_DB_URL", "").isBlank(), "external store: " + name(workload));
      assertTrue(vars.containsKey("RETINA_DB_PASSWORD"), "db password: " + name(workload));
      if (roles.contains("api")) {
        assertTrue(vars.containsKey("RETINA_ADMIN_TOKEN"), "every api node has the same token");
      } else {
        // docs/operations.md, "Least privilege for workers"
        assertFalse(vars.containsKey("RETINA_ADMIN_TOKEN"), "admin token on " + name(workload));
      }
    }
  }

  @Test
  void deploymentPlaysApiAndStatefulSetsPlayWorker() {
    for (JsonNode d : ofKind(manifests, "Deployment")) {
      assertEquals(Set.of("api"), roles(d), name(d));
      assertEquals(0, intAt(d, "/spec/strategy/rollingUpdate/maxUnavailable"), name(d));
    }
    for (JsonNode s : ofKind(all(), "StatefulSet")) {
      assertEquals(Set.of("worker"), roles(s), name(s));
    }
  }

  @Test
  void containerPortsAreTheNodesPortsAndServicesReachThem() {
    for (JsonNode workload : workloads(all())) {
      JsonNode c = mainContainer(workload);
      Config config = nodeConfig(workload, c, podName(workload, 0));
      Map<String, Integer> ports = ports(c);
      int cluster = config.getInt("pekko.remote.artery.canonical.port");
      assertEquals(cluster, ports.get("cluster"), "cluster port of " + name(workload));
      // every node serves HTTP: the API with the api role, only metrics and health without
      // (Guardian)
      assertEquals(
          config.getInt("retina.http.port"), ports.get("http"), "http port of " + name(workload));
    }
    for (JsonNode svc : ofKind(all(), "Service")) {
      List<JsonNode> selected = selectedBy(svc.path("spec").path("selector"), workloads(all()));
      assertFalse(selected.isEmpty(), "Service " + name(svc) + " selects no pods");
      boolean headless = "None".equals(svc.at("/spec/clusterIP").asText());
      for (JsonNode w : selected) {
        Map<String, Integer> ports = ports(mainContainer(w));
        for (JsonNode p : svc.path("spec").path("ports")) {
          JsonNode target = p.path("targetPort");
          assertTrue(
              target.isInt()
                  ? ports.containsValue(target.asInt())
                  : ports.containsKey(target.asText()),
              "Service " + name(svc) + " port " + p + " is not a port of " + name(w));
        }
        if (!headless) {
          // a load-balanced Service sends tenants' requests: only to nodes that serve the API
          assertTrue(roles(w).contains("api"), "Service " + name(svc) + " selects " + name(w));
        }
      }
    }
  }

  @Test
  void probesUseTheHealthRoutesTheNodeServesOnItsHttpPort() {
    assertTrue(servedPaths.contains("/health/live"), servedPaths.toString());
    assertEquals(
        Set.of("/health/live", "/health/ready", "/metrics"),
        workerServedPaths,
        "what a worker-only node serves");
    assertEquals("/health/ready", workerReadinessPath);
    for (JsonNode workload : workloads(all())) {
      JsonNode c = mainContainer(workload);
      Map<String, Integer> ports = ports(c);
      boolean api = roles(workload).contains("api");
      Set<String> served = api ? servedPaths : workerServedPaths;
      String ready = api ? readinessPath : workerReadinessPath;
      for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
        JsonNode p = c.path(probe);
        assertFalse(p.isMissingNode(), probe + " of " + name(workload));
        // every node serves its health routes on the HTTP port, worker-only ones included
        assertTrue(p.has("httpGet"), probe + " of " + name(workload) + " is not HTTP: " + p);
        String path = p.at("/httpGet/path").asText();
        assertTrue(served.contains(path), path + " is not served; served: " + served);
        assertTrue(path.startsWith("/health/"), path);
        if (probe.equals("readinessProbe")) {
          assertEquals(ready, path, name(workload));
        } else {
          assertFalse(path.equals(ready), probe + " must not depend on the store");
        }
        assertEquals(
            ports.get("http"), port(p.at("/httpGet/port"), ports), probe + " of " + name(workload));
      }
      if (roles(workload).contains("worker")) {
        // the first start unpacks TensorFlow before the HTTP port opens: minutes, not seconds
        JsonNode startup = c.path("startupProbe");
        long budget =
            startup.path("periodSeconds").asLong(10) * startup.path("failureThreshold").asLong(3);
        assertTrue(budget >= 300, name(workload) + ": a startup budget of " + budget + " s");
      }
    }
  }

  @Test
  void seedNodesAreTheWorkersStableNamesAtTheClusterPort() throws IOException {
    Matcher system =
        Pattern.compile("ActorSystem\\.create\\([^;]*?\"(\\w+)\"\\s*,\\s*config\\)", Pattern.DOTALL)
            .matcher(Files.readString(SERVER_SOURCES.resolve("io/retina/server/Node.java")));
    assertTrue(system.find(), "the actor system's name in Node.java");
    Pattern seed = Pattern.compile("pekko://(\\w+)@([^:/]+):(\\d+)");
    Set<String> seedLists = new LinkedHashSet<>();
    for (JsonNode workload : workloads(all())) {
      seedLists.add(
          env(workload, mainContainer(workload), podName(workload, 0))
              .getOrDefault("RETINA_SEED_NODES", ""));
    }
    assertEquals(1, seedLists.size(), "every node must be given the same seed nodes: " + seedLists);
    List<String> seeds =
        Stream.of(seedLists.iterator().next().split(",")).map(String::trim).toList();
    assertTrue(seeds.size() >= 2, "at least two seed nodes, so that one restarting is no outage");
    for (int i = 0; i < seeds.size(); i++) {
      Matcher m = seed.matcher(seeds.get(i));
      assertTrue(m.matches(), seeds.get(i));
      assertEquals(system.group(1), m.group(1), "the actor system's name");
      String host = m.group(2);
      JsonNode sts = ofKind(manifests, "StatefulSet").get(0);
      String serviceName = sts.at("/spec/serviceName").asText();
      String pod = podName(sts, i);
      // seed i is pod i (the first forms the cluster), under the headless Service's name
      assertTrue(
          host.equals(pod + "." + serviceName) || host.startsWith(pod + "." + serviceName + "."),
          host + " is not " + pod + "." + serviceName);
      assertTrue(i < intAt(sts, "/spec/replicas"), "seed " + host + " beyond the replicas");
      Config config = nodeConfig(sts, mainContainer(sts), pod);
      assertEquals(
          config.getInt("pekko.remote.artery.canonical.port"), Integer.parseInt(m.group(3)));
      // the pod's own address is exactly the seed's, or the cluster would not recognize it
      assertEquals(host, config.getString("pekko.remote.artery.canonical.hostname"), pod);
      JsonNode svc = named(manifests, "Service", serviceName);
      assertNotNull(svc, "the StatefulSet's serviceName names no Service");
      assertEquals("None", svc.at("/spec/clusterIP").asText(), "headless");
      assertTrue(svc.at("/spec/publishNotReadyAddresses").asBoolean(), "names before readiness");
      assertTrue(selects(svc.path("spec").path("selector"), sts), "Service selects the workers");
    }
    for (JsonNode workload : workloads(all())) {
      for (int i = 0; i < 2; i++) {
        String pod = podName(workload, i);
        String host =
            nodeConfig(workload, mainContainer(workload), pod)
                .getString("pekko.remote.artery.canonical.hostname");
        assertFalse(
            host.equals("127.0.0.1") || host.isBlank(), pod + " is reachable only by itself");
        if (workload.path("kind").asText().equals("StatefulSet")) {
          String svc = workload.at("/spec/serviceName").asText();
          assertTrue(host.startsWith(pod + "." + svc), pod + " names itself " + host);
          JsonNode service = named(all(), "Service", svc);
          assertNotNull(service, svc);
          assertTrue(selects(service.path("spec").path("selector"), workload), name(workload));
        }
      }
    }
  }

  @Test
  void everyWorkloadHasRequestsLimitsAndOneDisruptionBudget() {
    List<JsonNode> pdbs = ofKind(all(), "PodDisruptionBudget");
    for (JsonNode workload : workloads(all())) {
      assertTrue(
          selects(workload.at("/spec/selector/matchLabels"), workload),
          "the selector of " + name(workload) + " selects its own pods");
      for (JsonNode c : containers(workload)) {
        for (String kind : List.of("requests", "limits")) {
          for (String resource : List.of("cpu", "memory")) {
            assertFalse(
                c.path("resources").path(kind).path(resource).asText().isEmpty(),
                resource + " " + kind + " of " + name(workload) + "/" + c.path("name").asText());
          }
        }
      }
      List<String> budgets =
          pdbs.stream()
              .filter(p -> selects(p.at("/spec/selector/matchLabels"), workload))
              .map(DeploymentRecipeTest::name)
              .toList();
      assertEquals(1, budgets.size(), name(workload) + " is selected by " + budgets);
      for (JsonNode other : workloads(all())) {
        if (other != workload) {
          assertFalse(
              selects(workload.at("/spec/selector/matchLabels"), other),
              name(workload) + "'s selector takes " + name(other) + "'s pods");
        }
      }
    }
    for (JsonNode pdb : pdbs) {
      assertEquals(1, intAt(pdb, "/spec/maxUnavailable"), name(pdb));
    }
  }

  @Test
  void memoryHoldsTheHeapTheBodiesAndTheModels() {
    for (JsonNode workload : workloads(all())) {
      JsonNode c = mainContainer(workload);
      Config config = nodeConfig(workload, c, podName(workload, 0));
      long limit = bytes(c.at("/resources/limits/memory").asText());
      assertEquals(limit, bytes(c.at("/resources/requests/memory").asText()), "no overcommit");
      String options = env(workload, c, podName(workload, 0)).getOrDefault("JDK_JAVA_OPTIONS", "");
      Matcher pct = Pattern.compile("-XX:MaxRAMPercentage=([\\d.]+)").matcher(options);
      assertTrue(pct.find(), "the heap of " + name(workload) + " is set from its memory limit");
      long heap = (long) (limit * Double.parseDouble(pct.group(1)) / 100);
      if (roles(workload).contains("api")) {
        // docs/operations.md: size the heap to at least four times the bodies held in memory
        long bodies = config.getBytes("retina.http.max-body-bytes-in-flight");
        assertTrue(heap >= 4 * bodies, name(workload) + ": heap " + heap + " < 4 x " + bodies);
      }
      if (roles(workload).contains("worker")) {
        // TensorFlow's memory is outside the heap: the loaded models, up to the budget, and each
        // run's
        // working memory on top (MAXIM holds about 3 GB at 512x512, docs/models.md): four budgets
        long budget = config.getBytes("retina.workers.residency.memory-budget");
        assertTrue(
            limit - heap >= 4 * budget,
            name(workload) + ": " + (limit - heap) + " bytes beside the heap, budget " + budget);
      }
    }
  }

  @Test
  void givesTheNodeTimeToDrain() {
    for (JsonNode workload : workloads(all())) {
      JsonNode c = mainContainer(workload);
      Duration shutdown = coordinatedShutdown(nodeConfig(workload, c, podName(workload, 0)));
      long preStop = 0;
      JsonNode command = c.at("/lifecycle/preStop/exec/command");
      if (command.isArray()) {
        assertEquals("sleep", command.get(0).asText());
        preStop = Long.parseLong(command.get(1).asText());
      }
      long grace = workload.at("/spec/template/spec/terminationGracePeriodSeconds").asLong(30);
      assertTrue(
          grace >= preStop + shutdown.toSeconds(),
          name(workload)
              + ": "
              + grace
              + " s to stop, but preStop takes "
              + preStop
              + " s and the coordinated shutdown's phases up to "
              + shutdown.toSeconds()
              + " s");
    }
  }

  @Test
  void mountsTheDataDirectoryTheModelCacheAndAWritableTmp() {
    for (JsonNode workload : workloads(all())) {
      JsonNode spec = workload.at("/spec/template/spec");
      Set<String> volumes = new TreeSet<>();
      spec.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
      Set<String> claims = new TreeSet<>();
      workload
          .at("/spec/volumeClaimTemplates")
          .forEach(v -> claims.add(v.at("/metadata/name").asText()));
      for (JsonNode c : containers(workload)) {
        for (JsonNode m : c.path("volumeMounts")) {
          String v = m.path("name").asText();
          assertTrue(volumes.contains(v) || claims.contains(v), "no volume " + v + " for " + c);
        }
        if (c.at("/securityContext/readOnlyRootFilesystem").asBoolean()) {
          assertNotNull(mountAt(c, "/tmp"), "read-only root and no /tmp: " + c.path("name"));
        }
      }
      JsonNode c = mainContainer(workload);
      Map<String, String> env = env(workload, c, podName(workload, 0));
      Config config = nodeConfig(workload, c, podName(workload, 0));
      assertNotNull(mountAt(c, config.getString("retina.node.data-dir")), "data dir");
      Matcher cache =
          Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.cachedir=(\\S+)")
              .matcher(env.getOrDefault("JDK_JAVA_OPTIONS", ""));
      if (cache.find()) {
        assertTrue(
            containers(workload).stream().anyMatch(x -> mountUnder(x, cache.group(1)) != null),
            "JavaCPP's cache is on no volume");
      }
      if (roles(workload).contains("worker")) {
        String modelCache = config.getString("retina.workers.model-cache");
        JsonNode mount = mountAt(c, modelCache);
        assertNotNull(mount, name(workload) + " has no model cache at " + modelCache);
        String volume = mount.path("name").asText();
        assertTrue(
            claims.contains(volume), "one model cache volume per worker, kept across restarts");
        assertFalse(mount.path("readOnly").asBoolean(), "workers write canonical/ and uploads/");
        // the build's fetch step fills the same volume, where the node looks
        JsonNode fetch = null;
        for (JsonNode init : spec.path("initContainers")) {
          JsonNode m = mountAt(init, modelCache);
          if (m != null && m.path("name").asText().equals(volume)) {
            fetch = init;
          }
        }
        assertNotNull(fetch, "nothing fills the model cache of " + name(workload));
        assertEquals(
            modelCache, env(workload, fetch, podName(workload, 0)).get("RETINA_MODEL_CACHE"));
        assertTrue(
            dockerfile.stage("model-fetcher").entrypoint().toString().contains("fetch-models.sh"),
            "the fetch image runs the build's fetch step");
      }
    }
  }

  @Test
  void podsRunAsTheImagesNonRootUser() {
    String uid = dockerfile.uid();
    for (JsonNode workload : workloads(all())) {
      JsonNode security = workload.at("/spec/template/spec/securityContext");
      assertTrue(security.path("runAsNonRoot").asBoolean(), name(workload));
      assertEquals(uid, security.path("runAsUser").asText(), name(workload));
      assertEquals(uid, security.path("fsGroup").asText(), "volumes writable by " + uid);
      for (JsonNode c : containers(workload)) {
        assertFalse(
            c.at("/securityContext/allowPrivilegeEscalation").asBoolean(true), c.toString());
      }
    }
  }

  @Test
  void jvmOptionsNameRealSettings() {
    List<String> options = new ArrayList<>();
    options.add(dockerfile.runtime().env().getOrDefault("JDK_JAVA_OPTIONS", ""));
    for (JsonNode workload : workloads(all())) {
      for (JsonNode c : containers(workload)) {
        options.add(env(workload, c, podName(workload, 0)).getOrDefault("JDK_JAVA_OPTIONS", ""));
      }
    }
    Config node = nodeConfig(Map.of(), Map.of());
    for (String o : options) {
      systemProperties(o)
          .keySet()
          .forEach(
              key -> {
                if (key.startsWith("pekko.") || key.startsWith("retina.")) {
                  assertTrue(node.hasPathOrNull(key), "-D" + key + " is no setting");
                }
              });
    }
  }

  @Test
  void gpuVariantAsksForAGpuOnGpuNodes() {
    JsonNode sts = ofKind(gpuVariant, "StatefulSet").get(0);
    JsonNode spec = sts.at("/spec/template/spec");
    assertTrue(spec.path("nodeSelector").size() > 0, "a node selector for GPU nodes");
    JsonNode resources = mainContainer(sts).path("resources");
    assertTrue(resources.at("/limits/nvidia.com~1gpu").asInt() >= 1, resources.toString());
    assertEquals(
        resources.at("/limits/nvidia.com~1gpu").asInt(),
        resources
            .at("/requests/nvidia.com~1gpu")
            .asInt(resources.at("/limits/nvidia.com~1gpu").asInt()));
    String cpuImage = mainContainer(ofKind(manifests, "StatefulSet").get(0)).path("image").asText();
    String gpuImage = mainContainer(sts).path("image").asText();
    assertFalse(cpuImage.equals(gpuImage), "the GPU worker runs the GPU build");
  }

  // ---- the Dockerfile ----

  @Test
  void dockerfileRunsTheJarTheBuildMakesAsANonRootUser() throws IOException {
    Dockerfile.Stage runtime = dockerfile.runtime();
    assertTrue(
        runtime.base().matches(".*:17[-.].*jre.*"), "a JRE 17 base image, not " + runtime.base());
    String user = runtime.user();
    assertFalse(user.isEmpty() || user.startsWith("root") || user.startsWith("0"), user);
    String name = user.split(":")[0];
    assertTrue(
        runtime.runs().stream()
            .anyMatch(
                r ->
                    r.contains("useradd")
                        && r.matches("(?s).*--uid\\s+\\S+.*\\b" + name + "\\b.*")),
        "the user " + name + " is made with a fixed uid");

    String pom = Files.readString(Path.of("pom.xml"));
    String jar = tag(pom, "finalName") + ".jar";
    String libs = tag(pom, "classpathPrefix");
    List<String> entrypoint = runtime.entrypoint();
    assertEquals("java", entrypoint.get(0), "exec form, java as PID 1, so it gets SIGTERM");
    int dashJar = entrypoint.indexOf("-jar");
    assertTrue(dashJar > 0, entrypoint.toString());
    Path started = Path.of(entrypoint.get(dashJar + 1));
    assertEquals(jar, started.getFileName().toString());
    Map<String, String> copies = runtime.copies();
    assertEquals(started.toString(), copies.get("server/target/" + jar), "the built jar is copied");
    // the jar is not shaded: its manifest's Class-Path names lib/ beside it
    String libDir = started.getParent().resolve(libs).toString();
    assertEquals(
        libDir,
        Path.of(copies.getOrDefault("server/target/" + libs, "")).toString(),
        "lib/ beside it");

    // every file copied from the repository is there, and in the build context
    List<String> ignore = Files.readAllLines(DOCKERIGNORE);
    for (Dockerfile.Stage stage : dockerfile.stages()) {
      for (String source : stage.copies().keySet()) {
        if (!source.startsWith("server/target/")) {
          assertTrue(Files.exists(ROOT.resolve(source)), source);
        }
        assertTrue(
            ignore.contains("!" + source) || ignore.contains("!" + source + "/"),
            source + " is left out of the build context by " + DOCKERIGNORE);
      }
    }
  }

  @Test
  void dockerfileExposesChecksAndMountsWhatTheNodeUses() {
    Dockerfile.Stage runtime = dockerfile.runtime();
    Config image =
        nodeConfig(runtime.env(), systemProperties(runtime.env().get("JDK_JAVA_OPTIONS")));
    Config defaults = nodeConfig(Map.of(), Map.of());
    assertEquals(
        Set.of(
            String.valueOf(image.getInt("retina.http.port")),
            String.valueOf(image.getInt("pekko.remote.artery.canonical.port"))),
        Set.copyOf(runtime.all("EXPOSE")));
    Set<String> volumes = Set.copyOf(runtime.volumes());
    assertTrue(volumes.contains(image.getString("retina.workers.model-cache")), volumes.toString());
    assertTrue(volumes.contains(image.getString("retina.node.data-dir")), volumes.toString());

    String check = runtime.all("HEALTHCHECK").get(0);
    // one HTTP check for every role: every node serves its health routes on the HTTP port
    Matcher path =
        Pattern.compile("http://127\\.0\\.0\\.1:\\$\\{RETINA_HTTP_PORT:-[^}]*}(/health/\\w+)")
            .matcher(check);
    assertTrue(path.find(), "the health check is no HTTP request to the node's port: " + check);
    assertTrue(servedPaths.contains(path.group(1)), path.group(1));
    assertTrue(workerServedPaths.contains(path.group(1)), "not served without the api role");
    assertFalse(check.contains("/dev/tcp"), "no TCP check: " + check);
    assertFalse(check.contains("RETINA_ROLES"), "the same check for every role: " + check);
    // ${RETINA_X:-default} in the check: the default is the node's own
    Matcher fallback = Pattern.compile("\\$\\{(RETINA_\\w+):-([^}]*)}").matcher(check);
    int seen = 0;
    while (fallback.find()) {
      seen++;
      List<String> paths = pathsFedBy(fallback.group(1));
      assertFalse(paths.isEmpty(), fallback.group(1) + " feeds no setting");
      String given = fallback.group(2);
      assertTrue(
          paths.stream().anyMatch(p -> defaults.getString(p).equals(given)),
          fallback.group() + ": the node's default for " + paths + " is not " + given);
    }
    assertEquals(1, seen, "the check's HTTP port");

    // the fetch stage writes as the node's user, into the path the node reads
    Dockerfile.Stage fetcher = dockerfile.stage("model-fetcher");
    assertEquals(runtime.env().get("RETINA_MODEL_CACHE"), fetcher.env().get("RETINA_MODEL_CACHE"));
    assertEquals(dockerfile.uid(), fetcher.user().split(":")[0]);
    assertTrue(fetcher.volumes().contains(fetcher.env().get("RETINA_MODEL_CACHE")));
  }

  @Test
  void docsDescribeEveryFileOfTheRecipe() throws IOException {
    String doc = Files.readString(DEPLOY_DOC);
    for (Path f : recipeFiles()) {
      String relative = ROOT.relativize(f).toString();
      assertTrue(doc.contains(relative), "docs/deploy.md does not mention " + relative);
    }
    assertTrue(Files.readString(ROOT.resolve("README.md")).contains("`docs/deploy.md`"));
  }

  /**
   * The recipe's files: the Dockerfile, its build context's ignore file and the manifests. Other
   * things under {@code deploy/} (monitoring) are not this test's.
   */
  private static List<Path> recipeFiles() throws IOException {
    List<Path> files = new ArrayList<>(List.of(DOCKERFILE, DOCKERIGNORE));
    try (Stream<Path> manifests = Files.list(MANIFESTS)) {
      files.addAll(manifests.filter(Files::isRegularFile).sorted().toList());
    }
    return files;
  }

  // ---- the node's configuration ----

  /**
   * The environment variables the node reads: those its configuration substitutes ({@code
   * ${?RETINA_X}} in {@code *.conf}) and those its code reads directly ({@code RETINA_SEED_NODES}).
   */
  private static Set<String> knownSettings() throws IOException {
    Set<String> names = new TreeSet<>();
    Pattern substituted = Pattern.compile("\\$\\{\\?(RETINA_[A-Z0-9_]+)}");
    Pattern read =
        Pattern.compile(
            "getenv\\(\\)\\s*\\.getOrDefault\\(\\s*\"(RETINA_\\w+)\"|getenv\\(\\s*\"(RETINA_\\w+)\"");
    try (Stream<Path> files = Files.list(CONF_DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".conf")).toList()) {
        Matcher m = substituted.matcher(Files.readString(f));
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    try (Stream<Path> files = Files.walk(SERVER_SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = read.matcher(Files.readString(f));
        while (m.find()) {
          names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
      }
    }
    assertTrue(
        names.containsAll(Set.of("RETINA_HTTP_PORT", "RETINA_ROLES", "RETINA_SEED_NODES")),
        names.toString());
    return names;
  }

  /**
   * The configuration a node gets with this environment and these {@code -D} properties: {@code
   * application.conf} and its includes, substitutions resolved from {@code env} only (not this
   * machine's environment), and Pekko's reference configuration.
   */
  private static Config nodeConfig(Map<String, String> env, Map<String, String> properties) {
    ConfigResolver fromEnv = new EnvResolver(env);
    return ConfigFactory.parseMap(properties)
        .withFallback(ConfigFactory.parseResourcesAnySyntax("application"))
        .withFallback(reference)
        .resolve(
            ConfigResolveOptions.defaults().setUseSystemEnvironment(false).appendResolver(fromEnv));
  }

  private static Config nodeConfig(JsonNode workload, JsonNode container, String pod) {
    Map<String, String> env = env(workload, container, pod);
    return nodeConfig(env, systemProperties(env.get("JDK_JAVA_OPTIONS")));
  }

  /** The settings an environment variable feeds, found by giving it a value nothing else has. */
  private static List<String> pathsFedBy(String name) {
    Config probed = nodeConfig(Map.of(name, PROBE), Map.of());
    return probed.entrySet().stream()
        .filter(e -> PROBE.equals(String.valueOf(e.getValue().unwrapped())))
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }

  /**
   * The longest time the node's coordinated shutdown may take: its phases run one after another.
   */
  private static Duration coordinatedShutdown(Config config) {
    Config cs = config.getConfig("pekko.coordinated-shutdown");
    Duration fallback = cs.getDuration("default-phase-timeout");
    Duration total = Duration.ZERO;
    for (String phase : cs.getObject("phases").keySet()) {
      Config p = cs.getConfig("phases." + phase);
      if (p.hasPath("enabled") && !p.getBoolean("enabled")) {
        continue;
      }
      total = total.plus(p.hasPath("timeout") ? p.getDuration("timeout") : fallback);
    }
    assertTrue(total.toSeconds() >= 120, "cluster.conf's drain phases are missing: " + total);
    return total;
  }

  /** Resolves {@code ${?RETINA_X}} from a container's environment. */
  private record EnvResolver(Map<String, String> env) implements ConfigResolver {
    @Override
    public ConfigValue lookup(String path) {
      String value = env.get(path);
      return value == null ? null : ConfigValueFactory.fromAnyRef(value, "container env " + path);
    }

    @Override
    public ConfigResolver withFallback(ConfigResolver fallback) {
      EnvResolver self = this;
      return new ConfigResolver() {
        @Override
        public ConfigValue lookup(String path) {
          ConfigValue v = self.lookup(path);
          return v != null ? v : fallback.lookup(path);
        }

        @Override
        public ConfigResolver withFallback(ConfigResolver next) {
          return self.withFallback(fallback.withFallback(next));
        }
      };
    }
  }

  private static Map<String, String> systemProperties(String javaOptions) {
    Map<String, String> properties = new LinkedHashMap<>();
    if (javaOptions != null) {
      for (String o : javaOptions.trim().split("\\s+")) {
        if (o.startsWith("-D") && o.contains("=")) {
          properties.put(o.substring(2, o.indexOf('=')), o.substring(o.indexOf('=') + 1));
        }
      }
    }
    return properties;
  }

  /** Paths the ops routes serve, from their source: {@code /health/live}, {@code /metrics}... */
  private static Set<String> servedPaths(String source) {
    Set<String> paths = new TreeSet<>();
    Matcher two =
        Pattern.compile(
                "path\\(\\s*PathMatchers\\.segment\\(\"([^\"]+)\"\\)\\.slash\\(\"([^\"]+)\"\\)")
            .matcher(source);
    while (two.find()) {
      paths.add("/" + two.group(1) + "/" + two.group(2));
    }
    Matcher one = Pattern.compile("\\bpath\\(\\s*\"([^\"]+)\"").matcher(source);
    while (one.find()) {
      paths.add("/" + one.group(1));
    }
    return paths;
  }

  // ---- the manifests, read ----

  private static List<JsonNode> parseYaml(String text) {
    YAMLMapper yaml = new YAMLMapper();
    try (var parser = yaml.getFactory().createParser(text)) {
      return yaml.readValues(parser, JsonNode.class).readAll().stream()
          .filter(d -> d != null && d.isObject() && d.size() > 0)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The lines from {@code # ---} after the GPU heading to the end, uncommented. */
  private static String commentedVariant(String text) {
    int heading = text.indexOf("# ---- GPU workers");
    assertTrue(heading >= 0, "the GPU variant's heading");
    List<String> lines = text.substring(heading).lines().toList();
    int start = lines.indexOf("# ---");
    assertTrue(start > 0, "the GPU variant starts at a line '# ---'");
    return lines.subList(start, lines.size()).stream()
        .map(l -> l.replaceFirst("^# ?", ""))
        .collect(Collectors.joining("\n"));
  }

  private static List<JsonNode> all() {
    List<JsonNode> all = new ArrayList<>(manifests);
    all.addAll(gpuVariant);
    return all;
  }

  private static List<JsonNode> ofKind(List<JsonNode> docs, String kind) {
    return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
  }

  private static JsonNode named(List<JsonNode> docs, String kind, String name) {
    return ofKind(docs, kind).stream().filter(d -> name(d).equals(name)).findFirst().orElse(null);
  }

  private static List<JsonNode> workloads(List<JsonNode> docs) {
    List<JsonNode> w = new ArrayList<>(ofKind(docs, "Deployment"));
    w.addAll(ofKind(docs, "StatefulSet"));
    return w;
  }

  private static String name(JsonNode doc) {
    return doc.at("/metadata/name").asText();
  }

  private static int intAt(JsonNode doc, String pointer) {
    JsonNode n = doc.at(pointer);
    assertFalse(n.isMissingNode(), pointer + " of " + name(doc));
    return Integer.parseInt(n.asText());
  }

  /** A pod's name: {@code <statefulset>-<i>}, or a made-up one for a Deployment's pod. */
  private static String podName(JsonNode workload, int i) {
    return workload.path("kind").asText().equals("StatefulSet")
        ? name(workload) + "-" + i
        : name(workload) + "-7c9d5b8f4d-x" + i;
  }

  private static List<JsonNode> containers(JsonNode workload) {
    List<JsonNode> all = new ArrayList<>();
    workload.at("/spec/template/spec/initContainers").forEach(all::add);
    workload.at("/spec/template/spec/containers").forEach(all::add);
    return all;
  }

  private static JsonNode mainContainer(JsonNode workload) {
    JsonNode containers = workload.at("/spec/template/spec/containers");
    assertEquals(1, containers.size(), "one node per pod: " + name(workload));
    return containers.get(0);
  }

  private static Set<String> roles(JsonNode workload) {
    JsonNode c = mainContainer(workload);
    return NodeConfig.roles(nodeConfig(workload, c, podName(workload, 0)));
  }

  private static Map<String, Integer> ports(JsonNode container) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    container
        .path("ports")
        .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    return ports;
  }

  private static Integer port(JsonNode ref, Map<String, Integer> ports) {
    return ref.isInt() ? Integer.valueOf(ref.asInt()) : ports.get(ref.asText());
  }

  private static boolean selects(JsonNode selector, JsonNode workload) {
    JsonNode labels = workload.at("/spec/template/metadata/labels");
    if (selector.size() == 0) {
      return false;
    }
    for (var e : selector.properties()) {
      if (!labels.path(e.getKey()).asText("\0").equals(e.getValue().asText())) {
        return false;
      }
    }
    return true;
  }

  private static List<JsonNode> selectedBy(JsonNode selector, List<JsonNode> workloads) {
    return workloads.stream().filter(w -> selects(selector, w)).toList();
  }

  private static JsonNode mountAt(JsonNode container, String path) {
    for (JsonNode m : container.path("volumeMounts")) {
      if (Path.of(m.path("mountPath").asText()).equals(Path.of(path))) {
        return m;
      }
    }
    return null;
  }

  private static JsonNode mountUnder(JsonNode container, String path) {
    for (JsonNode m : container.path("volumeMounts")) {
      if (Path.of(path).startsWith(Path.of(m.path("mountPath").asText()))) {
        return m;
      }
    }
    return null;
  }

  /**
   * A container's environment as Kubernetes makes it: the image's {@code ENV}, then {@code envFrom}
   * ConfigMaps, then {@code env} in order, with {@code $(VAR)} expanded. Secrets and the pod's IP
   * stand in as placeholders; {@code metadata.name} is {@code pod}.
   */
  private static Map<String, String> env(JsonNode workload, JsonNode container, String pod) {
    Map<String, String> env = new LinkedHashMap<>(imageEnv(container.path("image").asText()));
    for (JsonNode from : container.path("envFrom")) {
      JsonNode cm = named(manifests, "ConfigMap", from.at("/configMapRef/name").asText());
      assertNotNull(cm, "envFrom names no ConfigMap here: " + from);
      for (var e : cm.path("data").properties()) {
        env.put(e.getKey(), e.getValue().asText());
      }
    }
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      JsonNode from = e.path("valueFrom");
      String value;
      if (e.has("value")) {
        value = expand(e.path("value").asText(), env);
      } else if (from.has("fieldRef")) {
        value =
            switch (from.at("/fieldRef/fieldPath").asText()) {
              case "metadata.name" -> pod;
              case "status.podIP" -> "10.1.2.3";
              default -> throw new AssertionError("unexpected fieldRef in " + e);
            };
      } else if (from.has("configMapKeyRef")) {
        JsonNode cm = named(manifests, "ConfigMap", from.at("/configMapKeyRef/name").asText());
        assertNotNull(cm, "configMapKeyRef names no ConfigMap here: " + e);
        JsonNode v = cm.path("data").path(from.at("/configMapKeyRef/key").asText());
        assertFalse(v.isMissingNode(), "no such key in the ConfigMap: " + e);
        value = v.asText();
      } else if (from.has("secretKeyRef")) {
        value = "secret-" + from.at("/secretKeyRef/key").asText();
      } else {
        throw new AssertionError("unexpected env entry " + e);
      }
      env.put(name, value);
    }
    return env;
  }

  /** The ENV of the Dockerfile stage an image name is built from: the runtime or the fetcher. */
  private static Map<String, String> imageEnv(String image) {
    String repository = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
    return switch (repository.substring(repository.lastIndexOf('/') + 1)) {
      case "retina" -> dockerfile.runtime().env();
      case "retina-model-fetcher" -> dockerfile.stage("model-fetcher").env();
      default -> throw new AssertionError("an image deploy/Dockerfile does not build: " + image);
    };
  }

  /** Kubernetes's {@code $(VAR)}: a variable defined before this one, else left as it is. */
  private static String expand(String value, Map<String, String> env) {
    Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = env.get(m.group(1));
      assertNotNull(v, "$(" + m.group(1) + ") is not defined before it is used in " + value);
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** A Kubernetes memory quantity in bytes: {@code 2Gi}, {@code 512Mi}, {@code 1G}. */
  private static long bytes(String quantity) {
    Matcher m = Pattern.compile("(\\d+)([KMGT]i?)?").matcher(quantity);
    assertTrue(m.matches(), quantity);
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2);
    int power = unit.isEmpty() ? 0 : "KMGT".indexOf(unit.charAt(0)) + 1;
    long base = unit.endsWith("i") ? 1024 : 1000;
    for (int i = 0; i < power; i++) {
      n *= base;
    }
    return n;
  }

  private static String tag(String xml, String tag) {
    Matcher m = Pattern.compile("<" + tag + ">([^<]+)</" + tag + ">").matcher(xml);
    assertTrue(m.find(), tag);
    return m.group(1).trim();
  }

  // ---- the Dockerfile, read ----

  /**
   * A Dockerfile, read as Docker reads it: comments dropped, continued lines joined, {@code ARG}s
   * before the first {@code FROM} global, {@code ${VAR}} expanded in the instructions that expand
   * it.
   */
  record Dockerfile(Map<String, String> globalArgs, List<Stage> stages) {
    record Instruction(String keyword, String args) {}

    record Stage(
        String name, String base, List<Instruction> instructions, Map<String, String> vars) {
      List<String> all(String keyword) {
        List<String> out = new ArrayList<>();
        for (Instruction i : instructions) {
          if (i.keyword().equals(keyword)) {
            if (keyword.equals("EXPOSE") || keyword.equals("USER")) {
              for (String w : i.args().trim().split("\\s+")) {
                out.add(expand(w));
              }
            } else {
              out.add(i.args());
            }
          }
        }
        return out;
      }

      List<String> runs() {
        return all("RUN");
      }

      /** The last USER: the user the image runs as. */
      String user() {
        List<String> users = all("USER");
        return users.isEmpty() ? "root" : users.get(users.size() - 1);
      }

      Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (Instruction i : instructions) {
          if (i.keyword().equals("ENV")) {
            for (String pair : words(i.args())) {
              int eq = pair.indexOf('=');
              env.put(
                  pair.substring(0, eq),
                  Dockerfile.expand(pair.substring(eq + 1), vars, env, name));
            }
          }
        }
        return env;
      }

      List<String> volumes() {
        List<String> out = new ArrayList<>();
        for (String v : all("VOLUME")) {
          try {
            JSON.readTree(v).forEach(n -> out.add(expand(n.asText())));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        return out;
      }

      List<String> entrypoint() {
        List<String> e = all("ENTRYPOINT");
        assertEquals(1, e.size(), "one ENTRYPOINT in " + name);
        try {
          List<String> out = new ArrayList<>();
          JSON.readTree(e.get(0)).forEach(n -> out.add(n.asText()));
          return out;
        } catch (IOException ex) {
          throw new AssertionError("ENTRYPOINT in exec form (a JSON array): " + e.get(0), ex);
        }
      }

      /** COPY sources (from the build context) and their destinations. */
      Map<String, String> copies() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String c : all("COPY")) {
          List<String> w = words(c).stream().filter(x -> !x.startsWith("--")).toList();
          if (c.contains("--from=")) {
            continue;
          }
          String dest = expand(w.get(w.size() - 1));
          for (String source : w.subList(0, w.size() - 1)) {
            String s = source.endsWith("/") ? source.substring(0, source.length() - 1) : source;
            String target =
                dest.endsWith("/") && w.size() > 2
                    ? dest + Path.of(s).getFileName()
                    : dest.endsWith("/") ? dest.substring(0, dest.length() - 1) : dest;
            out.put(source.endsWith("/") ? s + "/" : s, target);
          }
        }
        return out;
      }

      String expand(String s) {
        return Dockerfile.expand(s, vars, env(), name);
      }
    }

    /** {@code $VAR} and {@code ${VAR}}: the stage's ARGs, then its ENV so far. */
    static String expand(
        String s, Map<String, String> args, Map<String, String> env, String stage) {
      Matcher m = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)").matcher(s);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String name = m.group(1) != null ? m.group(1) : m.group(2);
        String v = args.containsKey(name) ? args.get(name) : env.get(name);
        assertNotNull(v, "${" + name + "} is not defined in stage " + stage);
        m.appendReplacement(out, Matcher.quoteReplacement(v));
      }
      m.appendTail(out);
      return out.toString();
    }

    static Dockerfile parse(String text) {
      List<String> logical = new ArrayList<>();
      StringBuilder current = new StringBuilder();
      for (String line : text.lines().toList()) {
        if (line.trim().startsWith("#")) {
          continue;
        }
        if (line.endsWith("\\")) {
          current.append(line, 0, line.length() - 1).append(' ');
          continue;
        }
        current.append(line);
        if (!current.toString().isBlank()) {
          logical.add(current.toString().trim());
        }
        current.setLength(0);
      }
      Map<String, String> global = new LinkedHashMap<>();
      List<Stage> stages = new ArrayList<>();
      Stage stage = null;
      for (String l : logical) {
        String[] parts = l.split("\\s+", 2);
        String keyword = parts[0].toUpperCase();
        String args = parts.length > 1 ? parts[1] : "";
        if (keyword.equals("FROM")) {
          String[] f = args.split("\\s+");
          String base = new Stage("global", "", List.of(), global).expand(f[0]);
          String name =
              f.length >= 3 && f[1].equalsIgnoreCase("AS") ? f[2] : "stage" + stages.size();
          stage = new Stage(name, base, new ArrayList<>(), new LinkedHashMap<>());
          stages.add(stage);
        } else if (keyword.equals("ARG")) {
          String[] kv = args.split("=", 2);
          String value = kv.length > 1 ? kv[1] : global.get(kv[0]);
          (stage == null ? global : stage.vars()).put(kv[0], value);
        } else {
          assertNotNull(stage, "an instruction before FROM: " + l);
          stage.instructions().add(new Instruction(keyword, args));
        }
      }
      return new Dockerfile(global, stages);
    }

    Stage stage(String name) {
      return stages.stream()
          .filter(s -> s.name().equals(name))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no stage " + name));
    }

    /** The last stage: what {@code docker build} makes without {@code --target}. */
    Stage runtime() {
      return stages.get(stages.size() - 1);
    }

    /** The uid the runtime user is made with. */
    String uid() {
      for (String run : runtime().runs()) {
        Matcher m = Pattern.compile("useradd[^;&]*--uid\\s+(\\S+)").matcher(run);
        if (m.find()) {
          return runtime().expand(m.group(1));
        }
      }
      throw new AssertionError("no useradd --uid in the runtime stage");
    }

    /** Whitespace-separated words, double quotes grouping and removed. */
    static List<String> words(String s) {
      List<String> out = new ArrayList<>();
      StringBuilder w = new StringBuilder();
      boolean quoted = false;
      for (char ch : s.toCharArray()) {
        if (ch == '"') {
          quoted = !quoted;
        } else if (Character.isWhitespace(ch) && !quoted) {
          if (w.length() > 0) {
            out.add(w.toString());
            w.setLength(0);
          }
        } else {
          w.append(ch);
        }
      }
      if (w.length() > 0) {
        out.add(w.toString());
      }
      return out;
    }
  }
}
