package io.retina.platform.store;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The one transaction helper: runs a unit of work on a pooled connection inside a transaction,
 * committing when it returns and rolling back when it throws. Thread-safe; each call gets its own
 * connection.
 */
public final class Tx {
  private final DataSource dataSource;

  public Tx(DataSource dataSource) {
    this.dataSource = dataSource;
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
