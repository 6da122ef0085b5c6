package io.retina.platform.tenants;

import java.time.Instant;
import java.util.UUID;

/** A customer of the platform; everything it owns carries its id. */
public record Tenant(UUID id, String name, Status status, String plan, Instant createdAt) {
  public enum Status {
    ACTIVE,
    SUSPENDED,
    DELETED;

    public String dbValue() {
      return name().toLowerCase();
    }
  }
}
