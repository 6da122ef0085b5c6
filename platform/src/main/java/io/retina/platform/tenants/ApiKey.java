package io.retina.platform.tenants;

import java.time.Instant;
import java.util.UUID;

/** What is known of an issued key: never the key itself, which only its holder has. */
public record ApiKey(
    UUID id,
    UUID tenantId,
    String name,
    String prefix,
    Instant createdAt,
    Instant lastUsedAt,
    Instant revokedAt) {}
