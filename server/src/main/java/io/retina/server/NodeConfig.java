package io.retina.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A node's configuration: {@code application.conf} and its includes, environment overrides, and the
 * Pekko cluster settings derived from them (roles, seed nodes).
 */
public final class NodeConfig {
  public static final Set<String> KNOWN_ROLES = Set.of("api", "worker");

  private NodeConfig() {}

  /** Loads the configuration; {@code overrides} (tests) win over everything else. */
  public static Config load(Map<String, Object> overrides) {
    Config base =
        ConfigFactory.parseMap(overrides)
            .withFallback(ConfigFactory.defaultOverrides())
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application"))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    Set<String> roles = roles(base);
    String seeds = System.getenv().getOrDefault("RETINA_SEED_NODES", "");
    if (base.hasPath("retina.node.seed-nodes")) {
      seeds = base.getString("retina.node.seed-nodes");
    }
    List<String> seedList = commaSeparated(seeds);
    Config cluster =
        ConfigFactory.empty()
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
            .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedList));
    return cluster.withFallback(base);
  }

  /**
   * The items of a setting given as one comma-separated text (as an environment variable gives
   * lists), each trimmed, empty ones dropped.
   */
  static List<String> commaSeparated(String text) {
    return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** The roles named by {@code retina.node.roles}; unknown or no roles are a startup error. */
  public static Set<String> roles(Config config) {
    Set<String> roles = new TreeSet<>();
    for (String r : commaSeparated(config.getString("retina.node.roles"))) {
      String role = r.toLowerCase();
      if (!KNOWN_ROLES.contains(role)) {
        throw new IllegalArgumentException(
            "unknown role '" + role + "' in RETINA_ROLES; known: " + KNOWN_ROLES);
      }
      roles.add(role);
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("RETINA_ROLES names no role; use api, worker or both");
    }
    return roles;
  }
}
