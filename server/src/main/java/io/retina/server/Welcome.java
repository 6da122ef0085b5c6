package io.retina.server;

import com.typesafe.config.Config;
import io.retina.platform.tenants.TenantRepository;

/**
 * What a newcomer needs after the start command: where the API, console and docs are, the admin
 * token when it was just generated, and, on the very first start, a demo tenant's API key, shown
 * once.
 */
final class Welcome {
  private Welcome() {}

  static void print(Config config, int port, AdminToken.Resolved admin, TenantRepository tenants) {
    StringBuilder out = new StringBuilder("\n==== Retina is up ====\n");
    String base = "http://localhost:" + port;
    out.append("  API          ").append(base).append("/v1\n");
    out.append("  Console      ").append(base).append("/console/\n");
    out.append("  OpenAPI      ").append(base).append("/openapi.yaml\n");
    out.append("  Health       ").append(base).append("/health/ready\n");
    out.append("  Metrics      ").append(base).append("/metrics\n");
    if (admin.generated()) {
      out.append("  Admin token  ")
          .append(admin.token())
          .append("  (kept in ")
          .append(admin.file())
          .append(")\n");
    } else if (admin.file() != null) {
      out.append("  Admin token  in ").append(admin.file()).append("\n");
    }
    if (config.getBoolean("retina.node.demo-tenant") && tenants.list().isEmpty()) {
      var demo = tenants.create("demo");
      var key = tenants.issueKey(demo.id(), "demo key");
      // the key is printed this once: every copy in a log is one more place it can leak from
      out.append("  Demo tenant  'demo', API key (shown once): ").append(key.secret()).append("\n");
      out.append("\n  Try:  KEY=<the demo key above>\n        curl -s -X POST '")
          .append(base)
          .append("/v1/jobs?model=super-resolution&scale=2' \\\n")
          .append("          -H \"Authorization: Bearer $KEY\"")
          .append(
              " \\\n          -H 'Content-Type: image/png' -H 'Prefer: wait=30' --data-binary @photo.png\n");
    }
    System.out.println(out.append("======================\n"));
  }
}
