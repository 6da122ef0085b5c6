package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Catalog entries as models.conf writes them, registered in a real PostgreSQL and read back. */
class BuiltinCatalogTest {
  static Database db;
  static ModelRepository models;

  /** A task with no model file: no artifact root, its own digest, range and list parameters. */
  private static final String CODE_ONLY =
      """
      retina.models.builtin = [{
        name = "shrink"
        version = 1
        task = "resize"
        description = "Resizes."
        format = "none"
        source = "test (no model)"
        digest = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
        parameters = [
          { name = "width", description = "pixels", min = 1, max = 4096, default = "1024" }
          { name = "fit", description = "how", allowed = ["contain", "fill"], default = "contain" }
        ]
        batch-safe = false
        price-per-image-micros = 100
        price-per-megapixel-micros = 200
      }, {
        name = "packaged"
        version = 1
        task = "upscale"
        description = "Needs a package the cache lacks."
        format = "tfjs-layers"
        source = "npm:absent@1.0.0"
        artifact { root = "absent_1.0.0", x2 = "x2/model.json" }
        parameters = []
        batch-safe = false
        price-per-image-micros = 1
        price-per-megapixel-micros = 1
      }]
      """;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    models = new ModelRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void aTaskWithNoModelFileRegistersWithItsOwnDigestAndRangesReadBack(@TempDir Path cache) {
    Config config = ConfigFactory.parseString(CODE_ONLY).resolve();
    List<BuiltinCatalog.Entry> entries = BuiltinCatalog.register(config, cache, models);

    assertEquals(1, entries.size(), "the entry whose package is missing is skipped");
    ModelVersion stored = models.find("shrink", 1).orElseThrow();
    assertEquals(entries.get(0).version(), stored);
    assertEquals(Map.of(), stored.artifact());
    assertEquals("none", stored.format());
    ParameterSpec width = stored.parameters().get(0);
    assertTrue(width.isRange());
    assertEquals(1, width.min());
    assertEquals(4096, width.max());
    assertEquals(List.of("contain", "fill"), stored.parameters().get(1).allowed());

    // registered again at the next start: nothing changes, nothing is refused
    BuiltinCatalog.register(config, cache, models);
    assertEquals(stored, models.find("shrink", 1).orElseThrow());
  }
}
