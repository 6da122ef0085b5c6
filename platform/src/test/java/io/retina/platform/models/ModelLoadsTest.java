package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry's record of loads, against a real PostgreSQL. */
class ModelLoadsTest {
  static Database db;
  static ModelRepository models;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    models = new ModelRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  private static List<ModelLoads.Load> of(String name) {
    return models.loads().all().stream().filter(l -> l.modelName().equals(name)).toList();
  }

  @Test
  void anActiveVersionThatFailsOnANodeIsDegradedUntilThatNodeLoadsIt() {
    String name = ModelRegistryLifecycleTest.builtIn(models);
    ModelLoads.Form form = new ModelLoads.Form("models/x.json", "sha256:aa", "sha256:bb");
    models.loads().loaded(name, 1, "node-b", List.of(form));
    assertTrue(degraded(name).isEmpty(), "loaded everywhere it was tried");

    models.loads().failed(name, 1, "node-a", "op _FusedDepthwiseConv2dNative is internal");
    List<ModelLoads.Load> degraded = degraded(name);
    assertEquals(1, degraded.size());
    assertEquals("node-a", degraded.get(0).node());
    assertEquals("op _FusedDepthwiseConv2dNative is internal", degraded.get(0).detail());

    models.loads().loaded(name, 1, "node-a", List.of(form));
    assertTrue(degraded(name).isEmpty(), "node-a serves it now");
  }

  private static List<ModelLoads.Load> degraded(String name) {
    return models.loads().degraded().stream().filter(l -> l.modelName().equals(name)).toList();
  }

  @Test
  void eachNodeKeepsItsLastLoadOfAVersion() {
    String name = ModelRegistryLifecycleTest.builtIn(models);
    ModelLoads.Form form = new ModelLoads.Form("models/x.json", "sha256:aa", "sha256:bb");
    models.loads().failed(name, 1, "node-a", "TensorFlow can't import the graph: no Conv3D");
    models.loads().loaded(name, 1, "node-b", List.of(form));

    List<ModelLoads.Load> loads = of(name);
    assertEquals(2, loads.size());
    ModelLoads.Load a = loads.get(0);
    assertEquals("node-a", a.node());
    assertFalse(a.loaded());
    assertEquals("TensorFlow can't import the graph: no Conv3D", a.detail());
    ModelLoads.Load b = loads.get(1);
    assertTrue(b.loaded());
    assertNull(b.detail());
    assertEquals(List.of(form), b.forms());

    // node-a tries again and succeeds: its failure is replaced, not kept beside
    models.loads().loaded(name, 1, "node-a", List.of(form));
    assertTrue(of(name).stream().allMatch(ModelLoads.Load::loaded));
    assertEquals(2, of(name).size());
  }

  @Test
  void aLongReasonIsCutToTheLimit() {
    String name = ModelRegistryLifecycleTest.builtIn(models);
    models.loads().failed(name, 1, "node-a", "x".repeat(10_000));
    assertEquals(ModelLoads.MAX_DETAIL, of(name).get(0).detail().length());
  }

  @Test
  void onlyARegisteredVersionCanHaveLoads() {
    assertThrows(RuntimeException.class, () -> models.loads().failed("nope", 1, "n", "why"));
  }
}
