package io.retina.platform.store;

import java.sql.SQLException;

/**
 * The store failed (connection lost, constraint broken unexpectedly); the caller cannot fix it by
 * retrying input.
 */
public final class StoreException extends RuntimeException {
  public StoreException(SQLException cause) {
    super(cause.getMessage(), cause);
  }

  /** The SQLSTATE of the underlying failure, e.g. {@code 23505} for a unique violation. */
  public String sqlState() {
    return ((SQLException) getCause()).getSQLState();
  }
}
