package io.retina.platform.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import javax.sql.DataSource;

/**
 * The one transaction helper: runs a unit of work on a pooled connection inside a transaction,
 * committing when it returns and rolling back when it throws. Each transaction carries a tenant
 * scope for row-level security: {@link #forTenant} sees that tenant's rows only, {@link #system}
 * (workers, sweeper, admin) sees all, and an unscoped one sees no tenant-owned rows at all.
 * Thread-safe; each call gets its own connection.
 */
public final class Tx {
  /** Each server connection's session scope, as last set; forgotten with the connection. */
  private static final Map<Object, String> SCOPES =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final DataSource dataSource;
  private final String scopeSetting;
  private final String scopeValue;

  public Tx(DataSource dataSource) {
    this(dataSource, null, null);
  }

  private Tx(DataSource dataSource, String scopeSetting, String scopeValue) {
    this.dataSource = dataSource;
    this.scopeSetting = scopeSetting;
    this.scopeValue = scopeValue;
  }

  /** Transactions that see only this tenant's rows. */
  public Tx forTenant(java.util.UUID tenantId) {
    return new Tx(dataSource, "retina.tenant_id", tenantId.toString());
  }

  /** Transactions that see every tenant's rows: for workers, the sweeper and admins only. */
  public Tx system() {
    return new Tx(dataSource, "retina.scope", "system");
  }

  /** Work that needs a connection and gives a value. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in a read-committed transaction. SQL failures surface as {@link
   * StoreException}.
   */
  public <T> T call(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      scope(c);
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException(e);
    }
  }

  /**
   * Runs {@code work}, which must run exactly one statement, as its own transaction (autocommit):
   * the statement's effects commit with it, sparing the {@code COMMIT} round trip. The statement
   * sees one snapshot and is atomic, as {@link #call} would make it; work that runs more than one
   * statement, or reads and then writes, belongs in {@link #call}. One exception: statements sent
   * together in one prepared statement ({@code "a; b"}) reach the store as one batch, which it runs
   * as one transaction (each statement with its own snapshot), committed once the last has run and
   * rolled back whole if any fails.
   */
  public <T> T single(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      scope(c);
      return work.run(c);
    } catch (SQLException e) {
      throw new StoreException(e);
    }
  }

  /**
   * Gives the connection's session this transaction's scope, unless it has it already: the scope is
   * set for the session (outside any transaction, so no rollback undoes it) and remembered per
   * server connection, and every transaction sets both settings, so none inherits another's. A
   * pooled connection that keeps serving one scope sets it once, not once per transaction.
   */
  private void scope(Connection c) throws SQLException {
    String wanted = scopeSetting == null ? "" : scopeSetting + "=" + scopeValue;
    Object server = server(c);
    if (wanted.equals(SCOPES.get(server))) {
      return;
    }
    SCOPES.remove(server);
    try (var st =
        c.prepareStatement(
            "select set_config('retina.tenant_id', ?, false), set_config('retina.scope', ?, false)")) {
      st.setString(1, "retina.tenant_id".equals(scopeSetting) ? scopeValue : "");
      st.setString(2, "retina.scope".equals(scopeSetting) ? scopeValue : "");
      st.execute();
    }
    SCOPES.put(server, wanted);
  }

  /** The driver's connection under the pool's and the counters' wrappers. */
  private static Object server(Connection c) throws SQLException {
    return c.isWrapperFor(org.postgresql.PGConnection.class)
        ? c.unwrap(org.postgresql.PGConnection.class)
        : c;
  }

  /** Runs {@code work} for its effects only. */
  public void run(VoidWork work) {
    call(
        c -> {
          work.run(c);
          return null;
        });
  }

  /** Work that needs a connection and gives nothing. */
  @FunctionalInterface
  public interface VoidWork {
    void run(Connection c) throws SQLException;
  }
}
