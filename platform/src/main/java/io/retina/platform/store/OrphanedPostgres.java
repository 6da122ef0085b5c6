package io.retina.platform.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an embedded PostgreSQL from outliving the node that started it. PostgreSQL runs as its own
 * process, so when the node's JVM is killed (SIGKILL, the OOM killer) the server goes on holding
 * the data directory, and the next start could not have it. Two defences:
 *
 * <ul>
 *   <li>{@link #stopLeftover}: before a start, a server that {@code postmaster.pid} names, that is
 *       alive, is a PostgreSQL, and serves this very data directory is stopped (a fast shutdown,
 *       then a kill if it lingers). A pid file naming anything else is left to PostgreSQL, which
 *       ignores a stale one.
 *   <li>{@link #watch}: after a start, a small shell process waits for this JVM to end and then
 *       stops the server, if the pid file still names it; after an orderly stop it does nothing.
 * </ul>
 *
 * Stateless and thread-safe.
 */
final class OrphanedPostgres {
  private static final Logger log = LoggerFactory.getLogger(OrphanedPostgres.class);

  /** How long a fast shutdown may take before the server is killed: it rolls back, no more. */
  private static final long SHUTDOWN_SECONDS = 20;

  private OrphanedPostgres() {}

  /** Stops the server left running in {@code dataDir} by a process that died, if there is one. */
  static void stopLeftover(Path dataDir) throws IOException {
    Optional<ProcessHandle> server = serverOf(dataDir);
    if (server.isEmpty()) {
      return;
    }
    ProcessHandle pg = server.get();
    log.warn(
        "an embedded PostgreSQL (pid {}) outlived the node that started it; stopping it", pg.pid());
    // SIGTERM asks the postmaster for a smart shutdown; its clients died with the old node, so it
    // stops at once. SIGKILL only if it doesn't: PostgreSQL recovers from its WAL at next start.
    pg.destroy();
    try {
      pg.onExit().get(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      pg.destroyForcibly();
      try {
        pg.onExit().get(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
      } catch (Exception again) {
        throw new IOException(
            "the leftover PostgreSQL (pid " + pg.pid() + ") in " + dataDir + " won't stop", again);
      }
    }
  }

  /**
   * Starts the watchdog that stops the server in {@code dataDir} once this JVM is gone. Best
   * effort: a machine without {@code sh} only loses the watchdog ({@link #stopLeftover} remains).
   */
  static void watch(Path dataDir) {
    Optional<ProcessHandle> server = serverOf(dataDir);
    if (server.isEmpty()) {
      return;
    }
    long jvm = ProcessHandle.current().pid();
    long pg = server.get().pid();
    String pidFile = dataDir.toAbsolutePath().resolve("postmaster.pid").toString();
    String script =
        "while kill -0 "
            + jvm
            + " 2>/dev/null; do sleep 1; done; "
            + "if [ \"$(head -n 1 \"$0\" 2>/dev/null)\" = "
            + pg
            + " ]; then kill -TERM "
            + pg
            + "; fi";
    try {
      new ProcessBuilder("sh", "-c", script, pidFile)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      log.warn("no watchdog for the embedded PostgreSQL: {}", e.getMessage());
    }
  }

  /** The live PostgreSQL serving {@code dataDir}, as {@code postmaster.pid} names it. */
  static Optional<ProcessHandle> serverOf(Path dataDir) {
    List<String> lines;
    try {
      lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log.warn("can't read {}'s postmaster.pid: {}", dataDir, e.getMessage());
      return Optional.empty();
    }
    if (lines.size() < 2) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()
        || !process.get().info().command().orElse("").contains("postgres")
        || !sameDirectory(Path.of(lines.get(1).trim()), dataDir)) {
      return Optional.empty(); // stale: the pid is gone or now belongs to something else
    }
    return process;
  }

  private static boolean sameDirectory(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }
}
