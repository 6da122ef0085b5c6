package io.retina.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Retina node in its own JVM, started the way the README starts one ({@code
 * io.retina.server.Main}), with its output in a log file. For tests of what happens to a process:
 * SIGTERM, kill -9, restarts.
 */
final class NodeProcess implements AutoCloseable {
  final Process process;
  final Path log;
  final int httpPort;
  final String base;

  private NodeProcess(Process process, Path log, int httpPort) {
    this.process = process;
    this.log = log;
    this.httpPort = httpPort;
    this.base = "http://127.0.0.1:" + httpPort;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static NodeProcess start(Map<String, String> env, int httpPort) throws IOException {
    return start(env, httpPort, List.of());
  }

  /** Starts a node; {@code jvmArgs} may set configuration with {@code -Dpath=value}. */
  static NodeProcess start(Map<String, String> env, int httpPort, List<String> jvmArgs)
      throws IOException {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return start(env, httpPort, jvmArgs, classpath);
  }

  /** Starts a node from {@code classpath}, e.g. the packaged {@code server/target/retina.jar}. */
  static NodeProcess start(
      Map<String, String> env, int httpPort, List<String> jvmArgs, String classpath)
      throws IOException {
    Path log = Files.createTempFile("retina-node", ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classpath);
    command.add("io.retina.server.Main");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    pb.environment().put("RETINA_HTTP_PORT", Integer.toString(httpPort));
    pb.environment().put("RETINA_HTTP_HOST", "127.0.0.1");
    return new NodeProcess(pb.start(), log, httpPort);
  }

  /** Waits until {@code /health/ready} answers 200, or fails with the node's log. */
  void awaitReady(Duration timeout) throws Exception {
    Http http = new Http(base);
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError("node exited with " + process.exitValue() + ":\n" + log());
      }
      try {
        if (http.send(http.to("/health/ready").GET()).status() == 200) {
          return;
        }
      } catch (AssertionError notYetListening) {
        // connection refused until the HTTP server binds
      }
      Thread.sleep(500);
    }
    throw new AssertionError("node not ready in " + timeout + ":\n" + log());
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  /** Kills the process at once (SIGKILL), as a crash or an OOM killer would. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  /** Sends SIGTERM and waits for the process to end; returns its exit code. */
  int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("node did not stop within " + timeout + " of SIGTERM");
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
