package io.retina.platform.store;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The one transaction helper: runs a unit of work on a pooled connection inside a transaction,
 * committing when it returns and rolling back when it throws. Each transaction carries a tenant
 * scope for row-level security: {@link #forTenant} sees that tenant's rows only, {@link #system}
 * (workers, sweeper, admin) sees all, and an unscoped one sees no tenant-owned rows at all.
 * Thread-safe; each call gets its own connection.
 */
public final class Tx {
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
      c.setAutoCommit(false);
      try {
        if (scopeSetting != null) {
          try (var st = c.prepareStatement("select set_config(?, ?, true)")) {
            st.setString(1, scopeSetting);
            st.setString(2, scopeValue);
            st.execute();
          }
        }
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
