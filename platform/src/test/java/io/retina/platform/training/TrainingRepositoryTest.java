package io.retina.platform.training;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.store.Database;
import io.retina.platform.store.Json;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The training contract in the store: claims fenced by attempt, an epoch committed and billed once
 * whoever commits it, resumption after a lost worker, and a result only its tenant can see.
 */
class TrainingRepositoryTest {
  static Database db;
  static TrainingRepository trainings;
  static TenantRepository tenants;
  static ModelRepository models;
  static final Duration LEASE = Duration.ofSeconds(30);
  static final JsonNode SETTINGS = Json.MAPPER.createObjectNode().put("epochs", 5);

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    trainings = new TrainingRepository(db.tx());
    tenants = new TenantRepository(db.tx());
    models = new ModelRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static Training create(Tenant t, String name) {
    return trainings.create(
        t.id(),
        name,
        "classify",
        SETTINGS,
        List.of("a", "b"),
        10,
        "sha256:00",
        new byte[] {1, 2},
        3);
  }

  static long ledger(String where, Object arg) {
    return TestDatabases.systemValue(
        db,
        rs -> rs.getLong(1),
        "select coalesce(sum(amount_micros), -1) from usage_ledger where " + where,
        arg);
  }

  static JsonNode report(int epoch) {
    return Json.MAPPER.createObjectNode().put("epoch", epoch).put("trainLoss", 1.0 / epoch);
  }

  /** Leaves only trainings of this test queued: claims take the oldest first. */
  static TrainingRepository.Claim claimOwn(Training t, String owner) {
    for (int i = 0; i < 20; i++) {
      var claim = trainings.claimNext(owner, LEASE).orElseThrow();
      if (claim.training().id().equals(t.id())) {
        return claim;
      }
    }
    throw new AssertionError("never claimed " + t.id());
  }

  @Test
  void anEpochIsCommittedAndBilledOnceAndOnlyByTheCurrentAttempt() {
    Tenant t = tenants.create("epochs-tenant");
    Training training = create(t, "epochs-tenant/cats");
    assertEquals(1, training.modelVersion());
    var first = claimOwn(training, "node-a");
    assertArrayEquals(new byte[] {1, 2}, first.dataset());
    assertNull(first.checkpoint());

    assertTrue(trainings.epochDone(first, 1, 8, report(1), new byte[] {11}, LEASE));
    assertFalse(
        trainings.epochDone(first, 1, 8, report(1), new byte[] {12}, LEASE),
        "the same epoch twice is refused");
    assertFalse(
        trainings.epochDone(first, 3, 8, report(3), new byte[] {13}, LEASE),
        "an epoch out of order is refused");
    // 8 images x the standard plan's 100 micros per image-epoch
    assertEquals(800, ledger("training_id = ?", training.id()));

    // the worker is lost: its lease runs out, another claims it and resumes after epoch 1
    expireLease(training);
    var second = claimOwn(training, "node-b");
    assertEquals(first.attempt() + 1, second.attempt());
    assertEquals(1, second.training().epochsDone());
    assertArrayEquals(new byte[] {11}, second.checkpoint());
    assertFalse(
        trainings.epochDone(first, 2, 8, report(2), new byte[] {14}, LEASE),
        "the lost worker's late epoch does not land");
    assertFalse(trainings.renew(first, LEASE));
    assertTrue(trainings.epochDone(second, 2, 8, report(2), new byte[] {15}, LEASE));
    assertEquals(1600, ledger("training_id = ?", training.id()));

    Training now = trainings.find(t.id(), training.id()).orElseThrow();
    assertEquals(2, now.epochsDone());
    assertEquals(2, now.history().size());
    assertEquals(8, now.trainImages());
  }

  @Test
  void theResultIsAPrivateModelOnlyItsTenantCanSeeOrRun() {
    Tenant owner = tenants.create("owner-tenant");
    Tenant other = tenants.create("other-tenant");
    Training training = create(owner, "owner-tenant/dogs");
    var claim = claimOwn(training, "node-a");
    assertTrue(trainings.epochDone(claim, 1, 4, report(1), new byte[] {1}, LEASE));
    byte[] zip = {'P', 'K', 5, 6};
    var draft =
        new ModelVersion(
            training.modelName(),
            training.modelVersion(),
            "classify",
            "retina-classifier",
            "training:" + training.id(),
            ContentDigest.sha256(zip),
            Map.of(ModelArchive.STORE_OPTION, ModelArchive.IN_DATABASE, "model", "c.json"),
            List.of(),
            false,
            1,
            0,
            500,
            1000,
            ModelVersion.Status.ACTIVE);
    Training done =
        trainings
            .succeed(claim, Json.MAPPER.createObjectNode().put("ok", true), draft, "mine", zip)
            .orElseThrow();
    assertEquals(Training.Status.SUCCEEDED, done.status());
    assertFalse(trainings.renew(claim, LEASE));

    assertTrue(models.findActiveFor("owner-tenant/dogs", owner.id()).isPresent());
    assertTrue(models.findActiveFor("owner-tenant/dogs", other.id()).isEmpty());
    assertTrue(models.findFor("owner-tenant/dogs", 1, owner.id()).isPresent());
    assertTrue(models.findFor("owner-tenant/dogs", 1, other.id()).isEmpty());
    assertTrue(
        models.listFor(owner.id()).stream()
            .anyMatch(v -> v.modelName().equals("owner-tenant/dogs")));
    assertTrue(
        models.listFor(other.id()).stream().noneMatch(v -> v.modelName().startsWith("owner-")));
    assertTrue(trainings.find(other.id(), training.id()).isEmpty());
    assertTrue(trainings.cancel(other.id(), training.id()).isEmpty());

    // the name is the owner's: another tenant can't train under it, the owner trains version 2
    var taken =
        assertThrows(
            TrainingRepository.RefusedException.class, () -> create(other, "owner-tenant/dogs"));
    assertEquals("model-name-taken", taken.type());
    assertEquals(2, create(owner, "owner-tenant/dogs").modelVersion());
  }

  @Test
  void aCanceledTrainingIsNoLongerTheWorkersAndPlansBoundTrainingsAtOnce() {
    Tenant t = tenants.create("cancel-tenant");
    Training training = create(t, "cancel-tenant/birds");
    var refused =
        assertThrows(
            TrainingRepository.RefusedException.class, () -> create(t, "cancel-tenant/fish"));
    assertEquals("too-many-trainings", refused.type(), "the standard plan runs one at a time");
    var claim = claimOwn(training, "node-a");
    assertEquals(
        Training.Status.CANCELED, trainings.cancel(t.id(), training.id()).orElseThrow().status());
    assertFalse(trainings.renew(claim, LEASE));
    assertFalse(trainings.epochDone(claim, 1, 4, report(1), new byte[] {1}, LEASE));
    assertEquals(-1, ledger("training_id = ?", training.id()), "nothing billed");
    assertEquals(Training.Status.QUEUED, create(t, "cancel-tenant/fish").status());
  }

  private static void expireLease(Training t) {
    db.tx()
        .system()
        .run(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set lease_expires_at = now() - interval '1 second'"
                          + " where id = ?")) {
                st.setObject(1, t.id());
                st.executeUpdate();
              }
            });
  }
}
