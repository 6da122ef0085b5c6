package io.retina.workers.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.tfjs.SavedModels;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CanonicalModelsTest {

  private static final Path SELFIE = ModelCacheFixtures.humanModels().resolve("models/selfie.json");

  @TempDir Path cache;

  private final AtomicInteger imports = new AtomicInteger();

  private TfModel countingImport(Path source) throws IOException {
    imports.incrementAndGet();
    return TfjsModels.load(source);
  }

  @Test
  void aTfjsModelIsImportedOnceAndThenLoadedFromItsSavedModel() throws Exception {
    CanonicalModels first = new CanonicalModels(cache);
    try (TfModel m = first.load(SELFIE, this::countingImport)) {
      assertEquals("input_1:0", m.signature().input().name());
    }
    CanonicalModels.Loaded loaded = first.loaded().get(0);
    Path form = revision().resolve(loaded.sourceDigest().substring(7));
    assertEquals(form, loaded.form());
    assertTrue(SavedModels.isSavedModel(form), form + " holds the SavedModel");
    assertEquals(CanonicalModels.treeDigest(form), loaded.canonicalDigest());
    assertNotEquals(loaded.sourceDigest(), loaded.canonicalDigest());

    CanonicalModels second = new CanonicalModels(cache);
    try (TfModel m = second.load(SELFIE, this::countingImport)) {
      assertEquals(1, imports.get(), "the second load reads the SavedModel, no import");
    }
    assertEquals(loaded, second.loaded().get(0));
  }

  @Test
  void aFormAnOlderImporterMadeIsNeverLoaded() throws Exception {
    CanonicalModels canonical = new CanonicalModels(cache);
    canonical.load(SELFIE, this::countingImport).close();
    Path form = canonical.loaded().get(0).form();
    // the same source's form as the importer before this revision would have left it
    Path older = cache.resolve("canonical").resolve("r" + (CanonicalModels.IMPORTER_REVISION - 1));
    Files.createDirectories(older);
    Files.move(form, older.resolve(form.getFileName()));
    CanonicalModels again = new CanonicalModels(cache);
    again.load(SELFIE, this::countingImport).close();
    assertEquals(2, imports.get(), "imported again rather than read from the older form");
    assertTrue(again.loaded().get(0).form().startsWith(revision()));
  }

  @Test
  void aDamagedFormIsMadeAgainFromItsSource() throws Exception {
    CanonicalModels canonical = new CanonicalModels(cache);
    canonical.load(SELFIE, this::countingImport).close();
    Path form = canonical.loaded().get(0).form();
    Files.write(form.resolve("saved_model.pb"), new byte[] {0, 1, 2}); // a torn write, say
    CanonicalModels again = new CanonicalModels(cache);
    try (TfModel m = again.load(SELFIE, this::countingImport)) {
      assertEquals(2, imports.get());
      assertEquals("activation_10:0", m.signature().output().name());
    }
    assertEquals(again.loaded().get(0).canonicalDigest(), CanonicalModels.treeDigest(form));
  }

  @Test
  void aSavedModelIsLoadedAsItIs() throws Exception {
    Path saved = cache.resolve("uploaded");
    try (TfModel imported = TfjsModels.load(SELFIE)) {
      SavedModels.export(imported, saved);
    }
    CanonicalModels canonical = new CanonicalModels(cache.resolve("elsewhere"));
    try (TfModel m = canonical.load(saved.resolve("saved_model.pb"), this::countingImport)) {
      assertEquals(0, imports.get());
      assertEquals("input_1:0", m.signature().input().name());
    }
    assertEquals(CanonicalModels.treeDigest(saved), canonical.loaded().get(0).canonicalDigest());
    assertTrue(Files.notExists(cache.resolve("elsewhere/canonical")), "nothing to convert");
  }

  @Test
  void aFailedImportLeavesNoForm() throws Exception {
    Path bogus = Files.writeString(cache.resolve("model.json"), "{\"modelTopology\": {}}");
    CanonicalModels canonical = new CanonicalModels(cache);
    assertThrows(IOException.class, () -> canonical.load(bogus));
    try (Stream<Path> left = Files.list(revision())) {
      assertEquals(0, left.count(), "no partial form is left behind");
    }
  }

  private Path revision() {
    return cache.resolve("canonical").resolve("r" + CanonicalModels.IMPORTER_REVISION);
  }
}
