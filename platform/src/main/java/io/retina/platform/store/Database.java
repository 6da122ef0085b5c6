package io.retina.platform.store;

import com.typesafe.config.Config;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's PostgreSQL: an external server given by JDBC URL, or an embedded one whose data lives
 * under the node's data directory and survives restarts. Migrates the schema with Flyway when
 * opened. Thread-safe; close it once, at shutdown.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  /** The role application connections act as; created by the migrations. */
  public static final String APP_ROLE = "retina_app";

  private final HikariDataSource dataSource;
  private final EmbeddedPostgres embedded;
  private final Tx tx;
  private final StatementCounts statementCounts = new StatementCounts();

  private Database(HikariDataSource dataSource, EmbeddedPostgres embedded) {
    this.dataSource = dataSource;
    this.embedded = embedded;
    this.tx = new Tx(statementCounts.wrap(dataSource));
  }

  /** Opens the store described by the {@code retina.store} config section and migrates it. */
  public static Database open(Config store) throws IOException {
    String url = store.getString("url");
    if (url.isBlank()) {
      Path dir = Path.of(store.getString("embedded.data-dir"));
      return openEmbedded(
          dir,
          store.getInt("embedded.port"),
          store.getInt("pool-size"),
          store.hasPath("embedded.statement-statistics")
              && store.getBoolean("embedded.statement-statistics"));
    }
    return openExternal(
        url, store.getString("user"), store.getString("password"), store.getInt("pool-size"));
  }

  /**
   * Starts (or restarts over existing data) an embedded PostgreSQL in {@code dataDir}, reachable
   * from 127.0.0.1 only and only with the password kept beside it ({@link EmbeddedAccess}).
   */
  public static Database openEmbedded(Path dataDir, int port, int poolSize) throws IOException {
    return openEmbedded(dataDir, port, poolSize, false);
  }

  /**
   * As {@link #openEmbedded(Path, int, int)}; with {@code statementStatistics}, the server loads
   * {@code pg_stat_statements} (a superuser creates the extension to read it).
   */
  public static Database openEmbedded(
      Path dataDir, int port, int poolSize, boolean statementStatistics) throws IOException {
    EmbeddedPostgres pg = startEmbedded(dataDir, port, statementStatistics);
    String user = EmbeddedAccess.SUPERUSER;
    try {
      String password = EmbeddedAccess.password(dataDir);
      return migrated(pg.getJdbcUrl(user, "postgres"), user, password, poolSize, pg);
    } catch (IOException | RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  /**
   * Starts the embedded server alone, for nodes in other processes to share: as {@link
   * #openEmbedded}, its superuser {@value EmbeddedAccess#SUPERUSER} with the password in {@link
   * #embeddedPasswordFile}. The caller closes it.
   */
  public static EmbeddedPostgres startEmbedded(Path dataDir, int port) throws IOException {
    return startEmbedded(dataDir, port, false);
  }

  private static EmbeddedPostgres startEmbedded(Path dataDir, int port, boolean statementStatistics)
      throws IOException {
    Files.createDirectories(dataDir);
    String password = EmbeddedAccess.password(dataDir);
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            // the node closes it after its runners have finished (coordinated shutdown), not at the
            // first instant of SIGTERM as the library's own JVM hook would
            .setRegisterShutdownHook(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            // The library starts the server for tests: without fsync (-F), so a machine that
            // stops mid-write can leave the data files corrupt, and without synchronous commit, so
            // a commit is answered before its WAL is on disk and a killed server forgets jobs and
            // bills it had acknowledged. A node's store is the platform's source of truth: both
            // on. Concurrent commits share a flush (the WAL is flushed up to the newest waiting).
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on");
    if (port > 0) {
      builder.setPort(port);
    }
    if (statementStatistics) {
      builder.setServerConfig("shared_preload_libraries", "pg_stat_statements");
    }
    EmbeddedAccess.configure(builder, password);
    OrphanedPostgres.stopLeftover(dataDir);
    EmbeddedPostgres pg = builder.start();
    OrphanedPostgres.watch(dataDir);
    try {
      EmbeddedAccess.lockDown(pg, dataDir, password);
    } catch (IOException e) {
      pg.close();
      throw e;
    }
    log.info("embedded PostgreSQL on 127.0.0.1:{} with data in {}", pg.getPort(), dataDir);
    return pg;
  }

  /** Where the password of the embedded server with data in {@code dataDir} is kept. */
  public static Path embeddedPasswordFile(Path dataDir) {
    return EmbeddedAccess.passwordFile(dataDir);
  }

  /** Connects to an external PostgreSQL. */
  public static Database openExternal(String url, String user, String password, int poolSize) {
    return migrated(url, user, password, poolSize, null);
  }

  private static HikariDataSource pool(String url, String user, String password, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(size);
    config.setPoolName("retina-store");
    config.setAutoCommit(true);
    // Every connection works as the application role: not the tables' owner, so row-level
    // security and the ledger's insert-only grant apply to it (V2__quotas_audit_isolation.sql).
    config.setConnectionInitSql("set role " + APP_ROLE);
    return new HikariDataSource(config);
  }

  /** Migrates as the configured (owning) user, then pools connections acting as the app role. */
  private static Database migrated(
      String url, String user, String password, int poolSize, EmbeddedPostgres pg) {
    var result =
        Flyway.configure()
            .dataSource(url, user, password)
            .locations("classpath:db/migration")
            .load()
            .migrate();
    log.info("schema at version {}", result.targetSchemaVersion);
    return new Database(pool(url, user, password, poolSize), pg);
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public Tx tx() {
    return tx;
  }

  /** The statements this node's transactions prepare, counted on demand (for tests). */
  public StatementCounts statementCounts() {
    return statementCounts;
  }

  /**
   * Publishes the connection pool's meters to {@code registry}: connections active, idle, pending
   * and their limits, and the time to acquire, use and create one ({@code hikaricp_*}, tagged
   * {@code pool="retina-store"}). Once per database.
   */
  public void publishPoolMetrics(MeterRegistry registry) {
    dataSource.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
  }

  /** True when a connection can be had and answers. */
  public boolean isReachable() {
    try (var c = dataSource.getConnection()) {
      return c.isValid(2);
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    dataSource.close();
    if (embedded != null) {
      try {
        embedded.close();
      } catch (IOException e) {
        log.warn("embedded PostgreSQL did not stop cleanly", e);
      }
    }
  }
}
