package io.retina.platform.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the node, with the password it wrote, reaches its embedded PostgreSQL, and what it commits
 * is on disk before the commit returns.
 */
class EmbeddedAccessTest {

  @Test
  void aConnectionWithoutThePasswordIsRefusedAndTheNodesOwnStillWorksAfterARestart(
      @TempDir Path dir) throws Exception {
    Path data = dir.resolve("postgres");
    try (Database db = Database.openEmbedded(data, 0, 2)) {
      assertTrue(db.isReachable());
      String url = "jdbc:postgresql://127.0.0.1:" + port(data) + "/postgres";
      assertThrows(SQLException.class, () -> connect(url, null), "no password");
      assertThrows(SQLException.class, () -> connect(url, "postgres"), "the library's default");
      String password = Files.readString(EmbeddedAccess.passwordFile(data)).strip();
      connect(url, password);
    }
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(EmbeddedAccess.passwordFile(data))));
    assertTrue(
        Files.readAllLines(data.resolve("pg_hba.conf")).stream()
            .filter(l -> !l.startsWith("#") && !l.isBlank())
            .noneMatch(l -> l.strip().endsWith("trust")),
        "no connection is trusted");
    try (Database again = Database.openEmbedded(data, 0, 2)) {
      assertTrue(again.isReachable(), "the same password opens it again");
    }
  }

  @Test
  void aCommitIsAnsweredOnlyOnceItIsOnDisk(@TempDir Path dir) throws Exception {
    try (Database db = Database.openEmbedded(dir.resolve("postgres"), 0, 2);
        var c = db.dataSource().getConnection();
        var st = c.createStatement()) {
      for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
        try (var rs = st.executeQuery("show " + setting)) {
          assertTrue(rs.next());
          assertEquals("on", rs.getString(1), setting);
        }
      }
    }
  }

  @Test
  void statementStatisticsAreThereOnlyWhenAskedFor(@TempDir Path dir) throws Exception {
    Path plainData = dir.resolve("plain");
    try (Database plain = Database.openEmbedded(plainData, 0, 2);
        var c = superuser(plainData);
        var st = c.createStatement()) {
      st.execute("create extension pg_stat_statements");
      SQLException e =
          assertThrows(SQLException.class, () -> st.execute("select * from pg_stat_statements"));
      assertTrue(e.getMessage().contains("shared_preload_libraries"), e.getMessage());
    }
    Path countedData = dir.resolve("counted");
    try (Database counted = Database.openEmbedded(countedData, 0, 2, true);
        var c = superuser(countedData);
        var st = c.createStatement()) {
      st.execute("create extension pg_stat_statements");
      st.execute("create table counted_once (x int)");
      st.execute("select x from counted_once");
      try (var rs =
          st.executeQuery(
              "select calls from pg_stat_statements"
                  + " where query = 'select x from counted_once'")) {
        assertTrue(rs.next(), "the statement was counted");
        assertEquals(1, rs.getLong(1));
      }
    }
  }

  /** A connection as the embedded server's superuser, with the password the node wrote. */
  private static java.sql.Connection superuser(Path data) throws Exception {
    return open(
        "jdbc:postgresql://127.0.0.1:" + port(data) + "/postgres",
        Files.readString(EmbeddedAccess.passwordFile(data)).strip());
  }

  private static void connect(String url, String password) throws SQLException {
    try (var c = open(url, password)) {
      c.createStatement().execute("select 1");
    }
  }

  /** A connection as the superuser, with {@code password} (none if null). */
  private static java.sql.Connection open(String url, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    if (password != null) {
      p.setProperty("password", password);
    }
    return DriverManager.getConnection(url, p);
  }

  /** The port a running server wrote in its pid file (its fourth line). */
  private static int port(Path data) throws Exception {
    List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"), StandardCharsets.UTF_8);
    return Integer.parseInt(lines.get(3).strip());
  }
}
