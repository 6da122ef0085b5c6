package io.retina.server;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.store.Database;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.TaskOutput;
import io.retina.workers.tasks.TaskProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A test fixture, never in the catalog: task {@code sleep}, whose every job takes a fixed time and
 * no CPU, as a GPU-bound model looks to the host. It lets tests and the scaling benchmark measure
 * what replicas add without the CPU of one machine being the limit. Found by the workers through
 * {@code META-INF/services} on the test classpath only.
 */
public final class SleepModel implements TaskProvider {

  @Override
  public String task() {
    return "sleep";
  }

  @Override
  public ImageTask load(Path artifactRoot, Map<String, String> options) {
    long millis = Long.parseLong(options.getOrDefault("sleep-ms", "100"));
    return new ImageTask() {
      @Override
      public TaskOutput run(byte[] encodedImage, Map<String, String> params) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return new TaskOutput(
            "application/json",
            ("{\"sleptMillis\":" + millis + "}").getBytes(StandardCharsets.US_ASCII));
      }

      @Override
      public void close() {}
    };
  }

  /**
   * Registers an active version {@code name@1} of the sleep task in the store at {@code jdbcUrl}.
   */
  static void register(String jdbcUrl, String name, long sleepMillis) {
    try (Database db =
        Database.openExternal(
            jdbcUrl,
            io.retina.platform.store.TestDatabases.USER,
            io.retina.platform.store.TestDatabases.PASSWORD,
            1)) {
      new ModelRepository(db.tx())
          .register(
              new ModelVersion(
                  name,
                  1,
                  "sleep",
                  "saved-model",
                  "test fixture",
                  "sha256:" + "0".repeat(64),
                  Map.of("sleep-ms", Long.toString(sleepMillis)),
                  List.of(),
                  false,
                  1,
                  0,
                  1000,
                  0,
                  ModelVersion.Status.ACTIVE),
              "A test fixture whose jobs take " + sleepMillis + " ms and no CPU.");
    }
  }

  /** For the service loader. */
  public SleepModel() {}
}
