package io.retina.server;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.JMException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which code HotSpot's optimizing compiler (C2) may compile in a node's JVM ({@code
 * retina.node.jit}). With {@code plumbing-c1}, the default, the code C2 kept recompiling under load
 * of many small jobs, its type profiles never settling, stays with C1: Pekko, Scala, the JDK's
 * concurrency, streams and method handles, and Retina's routes, store and runner code. Pixel,
 * tensor, JDBC and JSON code is compiled as the JVM would. With the JVM's own policy C2 took a
 * fifth of the node's CPU a minute into such load and about half in its first 40 s, and showed as a
 * long latency tail (docs/benchmarks.md, "The JIT on a fresh node"). {@code jvm} leaves the JVM's
 * own policy.
 *
 * <p>Installed as compiler directives through the JVM's diagnostic command bean (what {@code jcmd
 * Compiler.directives_add} does), so it needs no command-line option. Directives belong to the
 * whole JVM, so they are installed once per JVM, however many nodes it runs.
 */
final class JitPolicy {
  private static final Logger log = LoggerFactory.getLogger(JitPolicy.class);
  private static final String DIRECTIVES = "jit-directives.json";
  private static final AtomicBoolean INSTALLED = new AtomicBoolean();

  private JitPolicy() {}

  /** Applies the configured policy; a JVM without the diagnostic command bean keeps its own. */
  static void apply(Config config) {
    String policy = config.getString("retina.node.jit");
    switch (policy) {
      case "jvm" -> log.info("JIT: the JVM's own compilation policy (retina.node.jit = jvm)");
      case "plumbing-c1" -> {
        if (INSTALLED.compareAndSet(false, true)) {
          install();
        }
      }
      default ->
          throw new IllegalArgumentException(
              "retina.node.jit (RETINA_JIT) is '" + policy + "'; use plumbing-c1 or jvm");
    }
  }

  private static void install() {
    try {
      Path file = Files.createTempFile("retina-jit", ".json");
      try (InputStream in = JitPolicy.class.getResourceAsStream(DIRECTIVES)) {
        Files.write(file, in.readAllBytes());
        String said = diagnosticCommand("compilerDirectivesAdd", file.toString()).strip();
        if (!said.matches("(?s)[1-9][0-9]* compiler directives added.*")) {
          throw new IllegalStateException(said);
        }
        log.info("JIT: C2 leaves Pekko, Scala and the job path's plumbing to C1 (retina.node.jit)");
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException | JMException | RuntimeException e) {
      log.warn(
          "JIT: compiler directives not installed, the JVM's own policy applies: {}", e.toString());
    }
  }

  /**
   * Runs one of the JVM's diagnostic commands in this JVM, as {@code jcmd} would from outside, and
   * returns what it printed; {@code operation} is the command's bean name ({@code
   * compilerDirectivesAdd} for {@code Compiler.directives_add}).
   */
  static String diagnosticCommand(String operation, String... arguments) throws JMException {
    return String.valueOf(
        ManagementFactory.getPlatformMBeanServer()
            .invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                operation,
                new Object[] {arguments},
                new String[] {String[].class.getName()}));
  }
}
