package io.retina.platform.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL for tests: one embedded server per test JVM, and a fresh, migrated database for
 * every call of {@link #fresh()}, so test classes never see each other's rows.
 */
public final class TestDatabases {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  public static final String USER = "postgres";
  public static final String PASSWORD = "postgres";
  private static EmbeddedPostgres server;

  private TestDatabases() {}

  private static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        server = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      server.close();
                    } catch (IOException ignored) {
                      // the JVM is going away; the temporary data directory goes with it
                    }
                  }));
    }
    return server;
  }

  /** Reads a value off the current row of a result. */
  @FunctionalInterface
  public interface Read<T> {
    T from(ResultSet rs) throws SQLException;
  }

  /**
   * The first row's value of a query in the system scope (every tenant's rows), its parameters
   * bound in order: for tests that check what the store holds.
   */
  public static <T> T systemValue(Database db, Read<T> read, String sql, Object... params) {
    return db.tx()
        .system()
        .call(
            c -> {
              try (var st = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                  st.setObject(i + 1, params[i]);
                }
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return read.from(rs);
                }
              }
            });
  }

  /** A new, empty, migrated database on the shared server. Close it when done. */
  public static Database fresh() {
    return Database.openExternal(freshUrl(), USER, PASSWORD, 8);
  }

  /** The JDBC URL of a new, empty database on the shared server (user and password: postgres). */
  public static String freshUrl() {
    EmbeddedPostgres pg = server();
    String name = "retina_test_" + COUNTER.incrementAndGet();
    try (var c = pg.getPostgresDatabase().getConnection();
        var st = c.createStatement()) {
      st.execute("create database " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return pg.getJdbcUrl(USER, name);
  }
}
