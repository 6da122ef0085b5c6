package io.retina.platform.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store left running by a node that was killed doesn't keep the next start from its data. */
class OrphanedPostgresTest {

  @Test
  void aServerLeftRunningInTheDataDirectoryIsStoppedAndTheStoreOpensOnItsData(@TempDir Path dir)
      throws Exception {
    Path data = dir.resolve("db");
    Files.createDirectories(data);
    // a server as a killed node leaves it: started by another JVM, which is then SIGKILLed
    Process node =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                LeftoverPostgres.class.getName(),
                data.toString())
            .redirectErrorStream(true)
            .start();
    var out = new java.io.BufferedReader(new java.io.InputStreamReader(node.getInputStream()));
    for (String line; (line = out.readLine()) != null && !line.startsWith("written"); ) {
      // the server's own start-up output
    }
    node.destroyForcibly().waitFor();
    ProcessHandle server = OrphanedPostgres.serverOf(data).orElseThrow();
    assertTrue(server.isAlive());

    try (Database db = Database.openEmbedded(data, 0, 2)) {
      assertFalse(server.isAlive(), "the leftover server was stopped");
      try (var c = db.dataSource().getConnection();
          var st = c.createStatement()) {
        st.execute("reset role");
        var rs = st.executeQuery("select v from crash.kept");
        assertTrue(rs.next());
        assertEquals("written before the crash", rs.getString(1));
      }
    }
  }

  @Test
  void aStalePidFileNamingAnotherProcessIsLeftAlone(@TempDir Path dir) throws Exception {
    // this JVM's own pid, in a pid file for this directory: alive, but not a PostgreSQL
    Files.writeString(
        dir.resolve("postmaster.pid"), ProcessHandle.current().pid() + "\n" + dir + "\n");
    assertTrue(OrphanedPostgres.serverOf(dir).isEmpty());
    OrphanedPostgres.stopLeftover(dir); // and it doesn't stop the JVM, or we wouldn't be here
  }

  /** Starts a PostgreSQL in the directory given, writes a row, says so, and waits to be killed. */
  public static final class LeftoverPostgres {
    public static void main(String[] args) throws Exception {
      var pg =
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
              .setDataDirectory(Path.of(args[0]))
              .setCleanDataDirectory(false)
              .setRegisterShutdownHook(false)
              .start();
      try (var c = pg.getPostgresDatabase().getConnection();
          var st = c.createStatement()) {
        st.execute("create schema crash");
        st.execute("create table crash.kept (v text)");
        st.execute("insert into crash.kept values ('written before the crash')");
      }
      System.out.println("written");
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
