package io.retina.platform.tenants;

import io.retina.platform.jobs.JobCancellation;
import io.retina.platform.store.Memo;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Tenants and their API keys in PostgreSQL. Thread-safe. */
public final class TenantRepository {
  /**
   * last_used_at is refreshed at most this often per key, so authentication doesn't write on every
   * call.
   */
  private static final Duration LAST_USED_RESOLUTION = Duration.ofMinutes(1);

  /**
   * How long this node trusts a key it looked up: a key revoked or a tenant suspended through this
   * node is refused at its next request, through another node within this.
   */
  static final Duration MEMO_TTL = Duration.ofSeconds(1);

  /** Changes to tenants, their keys, plans and quotas made in this JVM. */
  static final Memo.Changes CHANGES = new Memo.Changes();

  private final Tx tx;
  private final Memo<String, Tenant> byKey = new Memo<>(MEMO_TTL, 10_000, CHANGES);

  /**
   * Tenants and keys are administered, and keys looked up, across tenants: every call runs in
   * system scope.
   */
  public TenantRepository(Tx tx) {
    this.tx = tx.system();
  }

  /** A key issued now, with the clear text that is shown once and stored nowhere. */
  public record IssuedKey(ApiKey key, String secret) {}

  public Tenant create(String name) {
    return tx.call(
        c -> {
          UUID id = UUID.randomUUID();
          try (var st =
              c.prepareStatement(
                  "insert into tenants (id, name) values (?, ?) returning created_at, plan")) {
            st.setObject(1, id);
            st.setString(2, name);
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return new Tenant(
                  id,
                  name,
                  Tenant.Status.ACTIVE,
                  rs.getString("plan"),
                  Rows.instant(rs, "created_at"));
            }
          }
        });
  }

  public Optional<Tenant> find(UUID id) {
    return tx.call(
        c -> queryTenants(c, "select * from tenants where id = ?", id).stream().findFirst());
  }

  public Optional<Tenant> findByName(String name) {
    return tx.call(
        c -> queryTenants(c, "select * from tenants where name = ?", name).stream().findFirst());
  }

  public List<Tenant> list() {
    return tx.call(c -> queryTenants(c, "select * from tenants order by created_at, id"));
  }

  /** Sets a tenant's status; false if there is no such tenant. */
  public boolean setStatus(UUID id, Tenant.Status status) {
    return CHANGES.write(
        tx,
        c -> {
          try (var st = c.prepareStatement("update tenants set status = ? where id = ?")) {
            st.setString(1, status.dbValue());
            st.setObject(2, id);
            return st.executeUpdate() == 1;
          }
        });
  }

  /** Moves a tenant to another plan; false if there is no such tenant. */
  public boolean setPlan(UUID id, String plan) {
    return CHANGES.write(
        tx,
        c -> {
          try (var st = c.prepareStatement("update tenants set plan = ? where id = ?")) {
            st.setString(1, plan);
            st.setObject(2, id);
            return st.executeUpdate() == 1;
          }
        });
  }

  /**
   * Deletes a tenant: its keys are revoked and its unfinished jobs canceled at once, while its jobs
   * and ledger stay for billing and audit. False if there is no such tenant (or it was deleted
   * before).
   */
  public boolean delete(UUID id) {
    return CHANGES.write(
        tx,
        c -> {
          try (var st =
              c.prepareStatement(
                  "update tenants set status = 'deleted' where id = ? and status <> 'deleted'")) {
            st.setObject(1, id);
            if (st.executeUpdate() != 1) {
              return false;
            }
          }
          try (var st =
              c.prepareStatement(
                  "update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = ?")) {
            st.setObject(1, id);
            st.executeUpdate();
          }
          JobCancellation.cancelUnfinished(c, id, null, "the tenant was deleted");
          return true;
        });
  }

  /**
   * Replaces a key by a new one with the same name, revoking the old at once. Empty if the tenant
   * has no such live key.
   */
  public Optional<IssuedKey> rotateKey(UUID tenantId, UUID keyId) {
    Optional<ApiKey> old =
        listKeys(tenantId).stream()
            .filter(k -> k.id().equals(keyId) && k.revokedAt() == null)
            .findFirst();
    if (old.isEmpty() || !revokeKey(tenantId, keyId)) {
      return Optional.empty();
    }
    return Optional.of(issueKey(tenantId, old.get().name()));
  }

  public IssuedKey issueKey(UUID tenantId, String name) {
    String secret = ApiKeyFormat.generate();
    String prefix = ApiKeyFormat.prefixOf(secret).orElseThrow();
    return tx.call(
        c -> {
          UUID id = UUID.randomUUID();
          try (var st =
              c.prepareStatement(
                  "insert into api_keys (id, tenant_id, name, prefix, secret_hash) values (?, ?, ?, ?, ?)"
                      + " returning created_at")) {
            st.setObject(1, id);
            st.setObject(2, tenantId);
            st.setString(3, name);
            st.setString(4, prefix);
            st.setBytes(5, ApiKeyFormat.hash(secret));
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              ApiKey key =
                  new ApiKey(
                      id, tenantId, name, prefix, Rows.instant(rs, "created_at"), null, null);
              return new IssuedKey(key, secret);
            }
          }
        });
  }

  public List<ApiKey> listKeys(UUID tenantId) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select * from api_keys where tenant_id = ? order by created_at, id")) {
            st.setObject(1, tenantId);
            List<ApiKey> keys = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                keys.add(key(rs));
              }
            }
            return keys;
          }
        });
  }

  /** Revokes a tenant's key; false if the tenant has no such key. */
  public boolean revokeKey(UUID tenantId, UUID keyId) {
    return CHANGES.write(
        tx,
        c -> {
          try (var st =
              c.prepareStatement(
                  "update api_keys set revoked_at = coalesce(revoked_at, now())"
                      + " where id = ? and tenant_id = ?")) {
            st.setObject(1, keyId);
            st.setObject(2, tenantId);
            return st.executeUpdate() == 1;
          }
        });
  }

  /**
   * The active tenant a presented key belongs to, if the key is well formed, known, not revoked,
   * and its tenant is not suspended. Compares hashes in constant time.
   */
  public Optional<Tenant> authenticate(String presentedKey) {
    Optional<String> prefix = ApiKeyFormat.prefixOf(presentedKey);
    if (prefix.isEmpty()) {
      return Optional.empty();
    }
    byte[] presentedHash = ApiKeyFormat.hash(presentedKey);
    return byKey.get(
        java.util.HexFormat.of().formatHex(presentedHash),
        () -> lookUp(prefix.get(), presentedHash));
  }

  /**
   * The tenant of a presented key as this node read it moments ago ({@link #authenticate}), if it
   * still holds; empty when only the store can say, including for a key that is not valid. Never
   * blocks.
   */
  public Optional<Tenant> authenticatedRecently(String presentedKey) {
    if (ApiKeyFormat.prefixOf(presentedKey).isEmpty()) {
      return Optional.empty();
    }
    return byKey.kept(java.util.HexFormat.of().formatHex(ApiKeyFormat.hash(presentedKey)));
  }

  private Optional<Tenant> lookUp(String prefix, byte[] presentedHash) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select k.id as key_id, k.secret_hash, k.last_used_at, t.*"
                      + " from api_keys k join tenants t on t.id = k.tenant_id"
                      + " where k.prefix = ? and k.revoked_at is null")) {
            st.setString(1, prefix);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next() || !MessageDigest.isEqual(presentedHash, rs.getBytes("secret_hash"))) {
                return Optional.empty();
              }
              Tenant tenant = tenant(rs);
              if (tenant.status() != Tenant.Status.ACTIVE) {
                return Optional.empty();
              }
              var lastUsed = Rows.instant(rs, "last_used_at");
              if (lastUsed == null
                  || lastUsed.isBefore(java.time.Instant.now().minus(LAST_USED_RESOLUTION))) {
                touch(c, Rows.uuid(rs, "key_id"));
              }
              return Optional.of(tenant);
            }
          }
        });
  }

  private static void touch(Connection c, UUID keyId) throws SQLException {
    try (var st = c.prepareStatement("update api_keys set last_used_at = now() where id = ?")) {
      st.setObject(1, keyId);
      st.executeUpdate();
    }
  }

  private static List<Tenant> queryTenants(Connection c, String sql, Object arg)
      throws SQLException {
    try (var st = c.prepareStatement(sql)) {
      if (arg != null) {
        st.setObject(1, arg);
      }
      List<Tenant> tenants = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          tenants.add(tenant(rs));
        }
      }
      return tenants;
    }
  }

  private static List<Tenant> queryTenants(Connection c, String sql) throws SQLException {
    return queryTenants(c, sql, null);
  }

  private static Tenant tenant(ResultSet rs) throws SQLException {
    return new Tenant(
        Rows.uuid(rs, "id"),
        rs.getString("name"),
        Tenant.Status.valueOf(rs.getString("status").toUpperCase()),
        rs.getString("plan"),
        Rows.instant(rs, "created_at"));
  }

  private static ApiKey key(ResultSet rs) throws SQLException {
    return new ApiKey(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        rs.getString("name"),
        rs.getString("prefix"),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "last_used_at"),
        Rows.instant(rs, "revoked_at"));
  }
}
