package io.retina.platform.webhooks;

import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Webhooks in the store: tenants' signing secrets and endpoints, the deliveries the job trigger
 * writes (the outbox) and every attempt to send one. Tenants' calls run in the tenant's scope; the
 * sender's run in system scope. Thread-safe.
 */
public final class WebhookStore {
  /** Endpoints one tenant may register. */
  public static final int MAX_ENDPOINTS = 20;

  /** Bytes of a receiver's answer kept with an attempt. */
  public static final int EXCERPT_CHARS = 512;

  private final Tx tx;
  private final Tx system;

  public WebhookStore(Tx tx) {
    this.tx = tx;
    this.system = tx.system();
  }

  /** A registered endpoint. Its secret is shown only when it is created or rotated. */
  public record Endpoint(
      UUID id,
      UUID tenantId,
      String url,
      List<String> events,
      String description,
      boolean enabled,
      String disabledReason,
      Instant failingSince,
      Instant previousSecretValidUntil,
      Instant createdAt) {}

  /** An endpoint just created, with its secret. */
  public record CreatedEndpoint(Endpoint endpoint, String secret) {}

  /** A secret and, during a rotation's grace period, until when the previous one still signs. */
  public record Secret(String secret, Instant previousValidUntil) {}

  /** One message to one receiver, and where its sending stands. */
  public record Delivery(
      UUID id,
      UUID tenantId,
      UUID jobId,
      UUID endpointId,
      String url,
      String event,
      String body,
      String status,
      int attempts,
      Instant nextAttemptAt,
      Instant createdAt,
      Instant finishedAt,
      Integer lastStatusCode,
      String lastError) {}

  /** One try at sending a delivery. {@code statusCode} is null when no answer came. */
  public record Attempt(
      int attempt,
      Instant startedAt,
      long latencyMs,
      Integer statusCode,
      String responseExcerpt,
      String error,
      String node) {}

  /** A delivery claimed for sending, with the secrets that sign it (current first). */
  public record Due(Delivery delivery, Instant windowStart, List<String> secrets) {}

  // ---- tenants' signing secret ----

  /** The secret that signs the tenant's jobs' own webhooks, made on first use. */
  public Secret signingSecret(UUID tenantId) {
    return tx.forTenant(tenantId).call(c -> signingSecret(c, tenantId));
  }

  private static Secret signingSecret(Connection c, UUID tenantId) throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into webhook_signing_secrets (tenant_id, secret) values (?, ?)"
                + " on conflict (tenant_id) do nothing")) {
      st.setObject(1, tenantId);
      st.setString(2, WebhookSignature.newSecret());
      st.executeUpdate();
    }
    try (var st =
        c.prepareStatement(
            "select secret, case when previous_valid_until > now() then previous_valid_until end"
                + " as until from webhook_signing_secrets where tenant_id = ?")) {
      st.setObject(1, tenantId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return new Secret(rs.getString("secret"), Rows.instant(rs, "until"));
      }
    }
  }

  /**
   * A new signing secret for the tenant's jobs' webhooks; the old one keeps signing beside it for
   * {@code grace}.
   */
  public Secret rotateSigningSecret(UUID tenantId, Duration grace) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              signingSecret(c, tenantId);
              try (var st =
                  c.prepareStatement(
                      "update webhook_signing_secrets set previous_secret = secret, secret = ?,"
                          + " previous_valid_until = now() + ?::interval, rotated_at = now()"
                          + " where tenant_id = ?")) {
                st.setString(1, WebhookSignature.newSecret());
                st.setString(2, Rows.interval(grace));
                st.setObject(3, tenantId);
                st.executeUpdate();
              }
              return signingSecret(c, tenantId);
            });
  }

  // ---- endpoints ----

  private static final String ENDPOINT_COLUMNS =
      "id, tenant_id, url, events, description, enabled, disabled_reason, failing_since,"
          + " case when previous_valid_until > now() then previous_valid_until end as until,"
          + " created_at";

  /** Registers an endpoint; empty when the tenant already has {@link #MAX_ENDPOINTS}. */
  public Optional<CreatedEndpoint> createEndpoint(
      UUID tenantId, String url, List<String> events, String description) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              // one tenant's registrations are counted under a lock on its tenant row
              try (var st = c.prepareStatement("select 1 from tenants where id = ? for update")) {
                st.setObject(1, tenantId);
                st.executeQuery().close();
              }
              try (var st =
                  c.prepareStatement(
                      "select count(*) from webhook_endpoints where tenant_id = ?")) {
                st.setObject(1, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  if (rs.getLong(1) >= MAX_ENDPOINTS) {
                    return Optional.<CreatedEndpoint>empty();
                  }
                }
              }
              String secret = WebhookSignature.newSecret();
              try (var st =
                  c.prepareStatement(
                      "insert into webhook_endpoints (id, tenant_id, url, events, description,"
                          + " secret) values (?, ?, ?, ?, ?, ?) returning "
                          + ENDPOINT_COLUMNS)) {
                st.setObject(1, UUID.randomUUID());
                st.setObject(2, tenantId);
                st.setString(3, url);
                st.setArray(4, c.createArrayOf("text", events.toArray()));
                st.setString(5, description == null ? "" : description);
                st.setString(6, secret);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return Optional.of(new CreatedEndpoint(endpoint(rs), secret));
                }
              }
            });
  }

  public List<Endpoint> endpoints(UUID tenantId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + ENDPOINT_COLUMNS
                          + " from webhook_endpoints where tenant_id = ? order by created_at")) {
                st.setObject(1, tenantId);
                List<Endpoint> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(endpoint(rs));
                  }
                }
                return out;
              }
            });
  }

  /** Every tenant's endpoints, for the admin console. */
  public List<Endpoint> allEndpoints(int limit) {
    return system.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select "
                      + ENDPOINT_COLUMNS
                      + " from webhook_endpoints order by enabled, created_at desc limit ?")) {
            st.setInt(1, limit);
            List<Endpoint> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(endpoint(rs));
              }
            }
            return out;
          }
        });
  }

  public Optional<Endpoint> endpoint(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + ENDPOINT_COLUMNS
                          + " from webhook_endpoints where tenant_id = ? and id = ?")) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(endpoint(rs)) : Optional.<Endpoint>empty();
                }
              }
            });
  }

  /** Removes an endpoint with its deliveries; false if the tenant has no such endpoint. */
  public boolean deleteEndpoint(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "delete from webhook_endpoints where tenant_id = ? and id = ?")) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                return st.executeUpdate() == 1;
              }
            });
  }

  /** A new secret for an endpoint, the old one signing beside it for {@code grace}. */
  public Optional<Secret> rotateEndpointSecret(UUID tenantId, UUID id, Duration grace) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update webhook_endpoints set previous_secret = secret, secret = ?,"
                          + " previous_valid_until = now() + ?::interval"
                          + " where tenant_id = ? and id = ?"
                          + " returning secret, case when previous_valid_until > now()"
                          + " then previous_valid_until end as until")) {
                st.setString(1, WebhookSignature.newSecret());
                st.setString(2, Rows.interval(grace));
                st.setObject(3, tenantId);
                st.setObject(4, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next()
                      ? Optional.of(new Secret(rs.getString("secret"), Rows.instant(rs, "until")))
                      : Optional.<Secret>empty();
                }
              }
            });
  }

  /** The endpoint's current secret, for a tenant that lost it. */
  public Optional<Secret> endpointSecret(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select secret, case when previous_valid_until > now()"
                          + " then previous_valid_until end as until"
                          + " from webhook_endpoints where tenant_id = ? and id = ?")) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next()
                      ? Optional.of(new Secret(rs.getString("secret"), Rows.instant(rs, "until")))
                      : Optional.<Secret>empty();
                }
              }
            });
  }

  /** Turns a disabled endpoint back on; its failure clock starts again. */
  public Optional<Endpoint> enableEndpoint(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update webhook_endpoints set enabled = true, disabled_reason = null,"
                          + " failing_since = null where tenant_id = ? and id = ? returning "
                          + ENDPOINT_COLUMNS)) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(endpoint(rs)) : Optional.<Endpoint>empty();
                }
              }
            });
  }

  // ---- deliveries, as tenants see them ----

  private static final String DELIVERY_COLUMNS =
      "d.id, d.tenant_id, d.job_id, d.endpoint_id, d.url, d.event, d.body, d.status, d.attempts,"
          + " d.next_attempt_at, d.created_at, d.finished_at, d.last_status_code, d.last_error";

  /**
   * The tenant's deliveries, newest first: of one job, or of all its jobs when {@code jobId} is
   * null.
   */
  public List<Delivery> deliveries(UUID tenantId, UUID jobId, int limit) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + DELIVERY_COLUMNS
                          + " from webhook_deliveries d where d.tenant_id = ?"
                          + (jobId == null ? "" : " and d.job_id = ?")
                          + " order by d.seq desc limit ?")) {
                int i = 1;
                st.setObject(i++, tenantId);
                if (jobId != null) {
                  st.setObject(i++, jobId);
                }
                st.setInt(i, limit);
                List<Delivery> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(delivery(rs));
                  }
                }
                return out;
              }
            });
  }

  public Optional<Delivery> delivery(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + DELIVERY_COLUMNS
                          + " from webhook_deliveries d where d.tenant_id = ? and d.id = ?")) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(delivery(rs)) : Optional.<Delivery>empty();
                }
              }
            });
  }

  public List<Attempt> attempts(UUID tenantId, UUID deliveryId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select attempt, started_at, latency_ms, status_code, response_excerpt,"
                          + " error, node from webhook_attempts"
                          + " where tenant_id = ? and delivery_id = ? order by attempt")) {
                st.setObject(1, tenantId);
                st.setObject(2, deliveryId);
                List<Attempt> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(
                        new Attempt(
                            rs.getInt("attempt"),
                            Rows.instant(rs, "started_at"),
                            rs.getLong("latency_ms"),
                            Rows.nullableInt(rs, "status_code"),
                            rs.getString("response_excerpt"),
                            rs.getString("error"),
                            rs.getString("node")));
                  }
                }
                return out;
              }
            });
  }

  /**
   * Sends a delivery again, now, with the same id and body: a delivered or failed one is due again
   * and gets a new retry period. Empty if the tenant has no such delivery.
   */
  public Optional<Delivery> redeliver(UUID tenantId, UUID id) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update webhook_deliveries d set status = 'pending', next_attempt_at = now(),"
                          + " window_start = now(), finished_at = null"
                          + " where d.tenant_id = ? and d.id = ? returning "
                          + DELIVERY_COLUMNS)) {
                st.setObject(1, tenantId);
                st.setObject(2, id);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(delivery(rs)) : Optional.<Delivery>empty();
                }
              }
            });
  }

  // ---- the sender's side ----

  /**
   * Claims up to {@code limit} deliveries that are due, for {@code lease}: pending, their time
   * come, not held by another sender, not to a disabled endpoint (a redelivery to one waits until
   * it is enabled), and the first unsent one of their job to their receiver (a job's events reach
   * each receiver in order). Each claim counts an attempt.
   */
  public List<Due> claim(String owner, Duration lease, int limit) {
    return system.call(
        c -> {
          List<Delivery> claimed = new ArrayList<>();
          List<Instant> windows = new ArrayList<>();
          try (var st =
              c.prepareStatement(
                  "with due as (select d.id from webhook_deliveries d"
                      + " where d.status = 'pending' and d.next_attempt_at <= now()"
                      + " and (d.lease_until is null or d.lease_until < now())"
                      + " and not exists (select 1 from webhook_deliveries e"
                      + " where e.job_id = d.job_id and e.status = 'pending' and e.seq < d.seq"
                      + " and e.endpoint_id is not distinct from d.endpoint_id)"
                      + " and (d.endpoint_id is null or exists (select 1 from webhook_endpoints p"
                      + " where p.id = d.endpoint_id and p.enabled))"
                      + " order by d.next_attempt_at, d.seq limit ? for update skip locked)"
                      + " update webhook_deliveries d set attempts = d.attempts + 1,"
                      + " lease_owner = ?, lease_until = now() + ?::interval"
                      + " from due where d.id = due.id returning "
                      + DELIVERY_COLUMNS
                      + ", d.window_start")) {
            st.setInt(1, limit);
            st.setString(2, owner);
            st.setString(3, Rows.interval(lease));
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                claimed.add(delivery(rs));
                windows.add(Rows.instant(rs, "window_start"));
              }
            }
          }
          List<Due> out = new ArrayList<>();
          for (int i = 0; i < claimed.size(); i++) {
            Delivery d = claimed.get(i);
            out.add(new Due(d, windows.get(i), secrets(c, d)));
          }
          return out;
        });
  }

  /** The secrets that sign a delivery now: its endpoint's, or its tenant's; current first. */
  private static List<String> secrets(Connection c, Delivery d) throws SQLException {
    if (d.endpointId() == null) {
      signingSecret(c, d.tenantId());
    }
    try (var st =
        c.prepareStatement(
            d.endpointId() == null
                ? "select secret, case when previous_valid_until > now() then previous_secret end"
                    + " as previous from webhook_signing_secrets where tenant_id = ?"
                : "select secret, case when previous_valid_until > now() then previous_secret end"
                    + " as previous from webhook_endpoints where id = ?")) {
      st.setObject(1, d.endpointId() == null ? d.tenantId() : d.endpointId());
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          return List.of();
        }
        String previous = rs.getString("previous");
        return previous == null
            ? List.of(rs.getString("secret"))
            : List.of(rs.getString("secret"), previous);
      }
    }
  }

  /** What one attempt to send came to. */
  public record Outcome(
      Instant startedAt, long latencyMs, Integer statusCode, String excerpt, String error) {
    public boolean delivered() {
      return statusCode != null && statusCode >= 200 && statusCode < 300;
    }
  }

  /**
   * Records an attempt and what follows from it, in one transaction, if the delivery is still this
   * sender's at this attempt: delivered; due again at {@code retryAt}; or, with {@code retryAt}
   * null, failed for good. An endpoint's failure clock starts at its first failure and stops at a
   * success; one that has failed for {@code disableAfter} is disabled, its pending deliveries
   * failed, and an audit entry written. Returns the endpoint disabled, if this did.
   */
  public Optional<UUID> finish(
      Due due, String owner, Outcome outcome, Instant retryAt, Duration disableAfter) {
    Delivery d = due.delivery();
    return system.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "update webhook_deliveries set status = ?, next_attempt_at = coalesce(?,"
                      + " next_attempt_at), lease_owner = null, lease_until = null,"
                      + " last_status_code = ?, last_error = ?,"
                      + " finished_at = case when ? = 'pending' then null else now() end"
                      + " where id = ? and attempts = ? and lease_owner = ?")) {
            String status =
                outcome.delivered() ? "delivered" : retryAt != null ? "pending" : "failed";
            st.setString(1, status);
            st.setTimestamp(2, retryAt == null ? null : Rows.timestamp(retryAt));
            setInt(st, 3, outcome.statusCode());
            st.setString(4, outcome.error());
            st.setString(5, status);
            st.setObject(6, d.id());
            st.setInt(7, d.attempts());
            st.setString(8, owner);
            if (st.executeUpdate() == 0) {
              return Optional.<UUID>empty(); // another sender took it over; its record stands
            }
          }
          try (var st =
              c.prepareStatement(
                  "insert into webhook_attempts (delivery_id, attempt, tenant_id, started_at,"
                      + " latency_ms, status_code, response_excerpt, error, node)"
                      + " values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing")) {
            st.setObject(1, d.id());
            st.setInt(2, d.attempts());
            st.setObject(3, d.tenantId());
            st.setTimestamp(4, Rows.timestamp(outcome.startedAt()));
            st.setLong(5, outcome.latencyMs());
            setInt(st, 6, outcome.statusCode());
            st.setString(7, outcome.excerpt());
            st.setString(8, outcome.error());
            st.setString(9, owner);
            st.executeUpdate();
          }
          if (d.endpointId() == null) {
            return Optional.<UUID>empty();
          }
          if (outcome.delivered()) {
            try (var st =
                c.prepareStatement(
                    "update webhook_endpoints set failing_since = null where id = ?")) {
              st.setObject(1, d.endpointId());
              st.executeUpdate();
            }
            return Optional.<UUID>empty();
          }
          try (var st =
              c.prepareStatement(
                  "update webhook_endpoints set failing_since = coalesce(failing_since, now())"
                      + " where id = ? returning enabled,"
                      + " failing_since <= now() - ?::interval as overdue")) {
            st.setObject(1, d.endpointId());
            st.setString(2, Rows.interval(disableAfter));
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next() || !rs.getBoolean("enabled") || !rs.getBoolean("overdue")) {
                return Optional.<UUID>empty();
              }
            }
          }
          String reason =
              "every delivery failed for "
                  + disableAfter.toHours()
                  + " hours; the last: "
                  + (outcome.statusCode() != null
                      ? "HTTP " + outcome.statusCode()
                      : String.valueOf(outcome.error()));
          try (var st =
              c.prepareStatement(
                  "update webhook_endpoints set enabled = false, disabled_reason = ? where id = ?")) {
            st.setString(1, reason);
            st.setObject(2, d.endpointId());
            st.executeUpdate();
          }
          try (var st =
              c.prepareStatement(
                  "update webhook_deliveries set status = 'failed', finished_at = now(),"
                      + " last_error = 'the endpoint was disabled'"
                      + " where endpoint_id = ? and status = 'pending'")) {
            st.setObject(1, d.endpointId());
            st.executeUpdate();
          }
          try (var st =
              c.prepareStatement(
                  "insert into admin_audit (actor, action, target_type, target_id, details)"
                      + " values ('retina', 'disable-webhook-endpoint', 'webhook-endpoint', ?,"
                      + " ?::jsonb)")) {
            st.setString(1, d.endpointId().toString());
            st.setString(
                2,
                Json.write(
                    Map.of("tenantId", d.tenantId().toString(), "url", d.url(), "reason", reason)));
            st.executeUpdate();
          }
          return Optional.of(d.endpointId());
        });
  }

  /** Deliveries waiting to be sent, over every tenant: for the node's metrics. */
  public long pending() {
    return system.call(
        c -> {
          try (var st =
                  c.prepareStatement(
                      "select count(*) from webhook_deliveries where status = 'pending'");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  // ---- rows ----

  private static Endpoint endpoint(ResultSet rs) throws SQLException {
    return new Endpoint(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        rs.getString("url"),
        texts(rs.getArray("events")),
        rs.getString("description"),
        rs.getBoolean("enabled"),
        rs.getString("disabled_reason"),
        Rows.instant(rs, "failing_since"),
        Rows.instant(rs, "until"),
        Rows.instant(rs, "created_at"));
  }

  private static Delivery delivery(ResultSet rs) throws SQLException {
    return new Delivery(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        Rows.uuid(rs, "job_id"),
        Rows.uuid(rs, "endpoint_id"),
        rs.getString("url"),
        rs.getString("event"),
        rs.getString("body"),
        rs.getString("status"),
        rs.getInt("attempts"),
        Rows.instant(rs, "next_attempt_at"),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "finished_at"),
        Rows.nullableInt(rs, "last_status_code"),
        rs.getString("last_error"));
  }

  private static List<String> texts(Array array) throws SQLException {
    return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
  }

  private static void setInt(java.sql.PreparedStatement st, int i, Integer v) throws SQLException {
    if (v == null) {
      st.setNull(i, java.sql.Types.INTEGER);
    } else {
      st.setInt(i, v);
    }
  }
}
