package io.retina.server;

import io.retina.platform.store.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * A PostgreSQL server of its own, from the same embedded binaries, for a local multi-node cluster
 * whose nodes must outlive each other: {@code java -cp server/target/retina.jar
 * io.retina.server.DatabaseMain [port] [data-dir]}. It listens on 127.0.0.1 only, lets in only the
 * superuser with the password it keeps beside its data directory, keeps its data across restarts,
 * and stops on SIGTERM. Production uses a real PostgreSQL server instead.
 */
public final class DatabaseMain {
  private DatabaseMain() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 5433;
    Path dir = Path.of(args.length > 1 ? args[1] : "data/cluster-db").toAbsolutePath();
    Files.createDirectories(dir);
    EmbeddedPostgres pg = Database.startEmbedded(dir, port);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    pg.close();
                  } catch (Exception ignored) {
                    // the process is ending either way
                  }
                  stopped.countDown();
                }));
    System.out.println(
        "PostgreSQL for Retina: RETINA_DB_URL=jdbc:postgresql://127.0.0.1:"
            + pg.getPort()
            + "/postgres RETINA_DB_USER=postgres, and RETINA_DB_PASSWORD from "
            + Database.embeddedPasswordFile(dir)
            + " (data in "
            + dir
            + ")");
    stopped.await();
  }
}
