package io.retina.server;

import io.retina.platform.store.TestDatabases;
import io.retina.workers.models.ModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Retina node in the test JVM: both roles, a fresh database on the shared embedded
 * PostgreSQL, the real built-in models, HTTP and cluster on free loopback ports.
 */
final class TestNode implements AutoCloseable {
  static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

  final Node node;
  final String base;
  final String storeUrl;
  private final Path dataDir;

  private TestNode(Node node, String storeUrl, Path dataDir) {
    this.node = node;
    this.base = "http://127.0.0.1:" + node.httpPort();
    this.storeUrl = storeUrl;
    this.dataDir = dataDir;
  }

  /** This node's cluster address, for another node to name as its seed. */
  String clusterAddress() {
    return org.apache.pekko.cluster.typed.Cluster.get(node.system())
        .selfMember()
        .address()
        .toString();
  }

  static TestNode start(Map<String, Object> overrides) throws IOException {
    Path dataDir = Files.createTempDirectory("retina-node");
    Map<String, Object> config = new HashMap<>();
    if (!overrides.containsKey("retina.store.url")) {
      config.put("retina.store.url", TestDatabases.freshUrl()); // a database of its own
    }
    config.put("retina.store.user", TestDatabases.USER);
    config.put("retina.store.password", TestDatabases.PASSWORD);
    config.put("retina.node.data-dir", dataDir.toString());
    config.put("retina.node.admin-token", ADMIN_TOKEN);
    config.put("retina.node.demo-tenant", false);
    config.put("retina.http.host", "127.0.0.1");
    config.put("retina.http.port", 0);
    config.put("pekko.remote.artery.canonical.port", 0);
    config.putAll(overrides);
    return new TestNode(
        Node.start(NodeConfig.load(config)), (String) config.get("retina.store.url"), dataDir);
  }

  @Override
  public void close() throws Exception {
    node.stop().toCompletableFuture().get(60, TimeUnit.SECONDS);
    ModelFiles.deleteTree(dataDir);
  }
}
