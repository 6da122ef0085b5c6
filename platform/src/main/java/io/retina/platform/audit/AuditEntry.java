package io.retina.platform.audit;

import java.time.Instant;
import java.util.Map;

/** One admin action: who did what to which thing, when, with what details. */
public record AuditEntry(
    long id,
    String actor,
    String action,
    String targetType,
    String targetId,
    Map<String, Object> details,
    Instant at) {}
