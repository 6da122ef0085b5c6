package io.retina.platform.training;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Trainings in the store: the tenant's side (start one within the plan's limits, read, list,
 * cancel) and the workers' side, which follows the job contract: a claim under a lease fenced by
 * its attempt number, an epoch's checkpoint committed together with that epoch's ledger line, and
 * the result registered as the tenant's private model version in the transaction that ends the
 * training. Thread-safe.
 */
public final class TrainingRepository {

  /** Why a training was not accepted; {@code type} is the problem type the API answers with. */
  public static final class RefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String type;

    RefusedException(String type, String message) {
      super(message, null, false, false);
      this.type = type;
    }

    public String type() {
      return type;
    }
  }

  /** What the tenant's plan allows: images per dataset, epochs, trainings at once, the price. */
  public record Limits(
      int maxImages, int maxEpochs, int maxConcurrent, long pricePerImageEpochMicros) {}

  /** A claimed training: its attempt fences every write; the dataset and where to resume. */
  public record Claim(Training training, int attempt, byte[] dataset, byte[] checkpoint) {}

  private static final String COLUMNS =
      "id, tenant_id, model_name, model_version, task, status, settings, classes, images,"
          + " train_images, epochs_done, history, report, attempts, error_type, error_detail,"
          + " created_at, started_at, finished_at";

  private final Tx tx;

  public TrainingRepository(Tx tx) {
    this.tx = tx;
  }

  // ---- the tenant's side ----

  /** The tenant's plan limits for training. */
  public Limits limits(UUID tenant) {
    return tx.forTenant(tenant)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select p.max_training_images, p.max_training_epochs,"
                          + " p.max_concurrent_trainings, p.price_per_image_epoch_micros"
                          + " from tenants t join plans p on p.name = t.plan where t.id = ?")) {
                st.setObject(1, tenant);
                try (ResultSet rs = st.executeQuery()) {
                  if (!rs.next()) {
                    throw new IllegalStateException("no tenant " + tenant);
                  }
                  return new Limits(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getLong(4));
                }
              }
            });
  }

  /**
   * Stores a new training, queued, with its dataset; it will make the next version of {@code
   * modelName}. Refused when the tenant has its plan's number of trainings unfinished, when the
   * model is being trained already, or when the name is another tenant's.
   */
  public Training create(
      UUID tenant,
      String modelName,
      String task,
      JsonNode settings,
      List<String> classes,
      int images,
      String datasetDigest,
      byte[] dataset,
      int maxAttempts) {
    return tx.forTenant(tenant)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement("select pg_advisory_xact_lock(hashtextextended(?, 0))")) {
                st.setString(1, "trainings:" + tenant);
                st.execute();
              }
              int allowed = limits(c, tenant);
              try (var st =
                  c.prepareStatement(
                      "select count(*) from trainings where tenant_id = ?"
                          + " and status in ('queued', 'running')")) {
                st.setObject(1, tenant);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  if (rs.getInt(1) >= allowed) {
                    throw new RefusedException(
                        "too-many-trainings",
                        "Your plan allows "
                            + allowed
                            + " training(s) at a time; wait for one to end or cancel it.");
                  }
                }
              }
              try {
                ModelRepository.requirePrivateName(c, modelName, tenant, Training.modelTask(task));
              } catch (ModelRepository.NameTakenException e) {
                throw new RefusedException("model-name-taken", e.getMessage());
              }
              try (var st =
                  c.prepareStatement(
                      "select 1 from trainings where model_name = ?"
                          + " and status in ('queued', 'running')")) {
                st.setString(1, modelName);
                try (ResultSet rs = st.executeQuery()) {
                  if (rs.next()) {
                    throw new RefusedException(
                        "training-in-progress",
                        "'" + modelName + "' is being trained already; wait for it to end.");
                  }
                }
              }
              int version = ModelRepository.nextVersion(c, modelName);
              UUID id = UUID.randomUUID();
              try (var st =
                  c.prepareStatement(
                      "insert into trainings (id, tenant_id, model_name, model_version, task,"
                          + " status, settings, classes, images, dataset_digest, max_attempts)"
                          + " values (?, ?, ?, ?, ?, 'queued', ?::jsonb, ?::jsonb, ?, ?, ?)")) {
                st.setObject(1, id);
                st.setObject(2, tenant);
                st.setString(3, modelName);
                st.setInt(4, version);
                st.setString(5, task);
                st.setString(6, Json.write(settings));
                st.setString(7, Json.write(classes));
                st.setInt(8, images);
                st.setString(9, datasetDigest);
                st.setInt(10, maxAttempts);
                st.executeUpdate();
              }
              try (var st =
                  c.prepareStatement(
                      "insert into training_datasets (training_id, tenant_id, bytes)"
                          + " values (?, ?, ?)")) {
                st.setObject(1, id);
                st.setObject(2, tenant);
                st.setBytes(3, dataset);
                st.executeUpdate();
              }
              return select(c, "id = ?", id).orElseThrow();
            });
  }

  /** The tenant's training, or empty if there is none by that id (another tenant's included). */
  public Optional<Training> find(UUID tenant, UUID id) {
    return tx.forTenant(tenant).call(c -> select(c, "id = ? and tenant_id = ?", id, tenant));
  }

  /** The tenant's trainings, newest first. */
  public List<Training> list(UUID tenant, int limit) {
    return tx.forTenant(tenant)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + COLUMNS
                          + " from trainings where tenant_id = ?"
                          + " order by created_at desc, id desc limit ?")) {
                st.setObject(1, tenant);
                st.setInt(2, limit);
                List<Training> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(training(rs));
                  }
                }
                return out;
              }
            });
  }

  /**
   * Cancels the training if it has not ended; the worker running it stops at its next look, and
   * epochs already committed stay billed. Returns the training as it is now; empty if not found.
   */
  public Optional<Training> cancel(UUID tenant, UUID id) {
    return tx.forTenant(tenant)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set status = 'canceled', finished_at = now(),"
                          + " lease_owner = null, lease_expires_at = null"
                          + " where id = ? and tenant_id = ? and status in ('queued', 'running')")) {
                st.setObject(1, id);
                st.setObject(2, tenant);
                st.executeUpdate();
              }
              return select(c, "id = ? and tenant_id = ?", id, tenant);
            });
  }

  // ---- the admin's side (system scope) ----

  /** A training with its tenant's name, for the admin. */
  public record Listed(Training training, String tenantName) {}

  /** Every tenant's trainings, newest first; only those of {@code status} when it is not null. */
  public List<Listed> all(Training.Status status, int limit) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + COLUMNS.replaceAll("(^|, )(\\w)", "$1x.$2")
                          + ", t.name as tenant_name from trainings x"
                          + " join tenants t on t.id = x.tenant_id"
                          + " where (?::text is null or x.status = ?)"
                          + " order by x.created_at desc, x.id desc limit ?")) {
                String s = status == null ? null : status.dbValue();
                st.setString(1, s);
                st.setString(2, s);
                st.setInt(3, limit);
                List<Listed> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(new Listed(training(rs), rs.getString("tenant_name")));
                  }
                }
                return out;
              }
            });
  }

  /** Any tenant's training, for the admin. */
  public Optional<Training> findAny(UUID id) {
    return tx.system().call(c -> select(c, "id = ?", id));
  }

  /** Cancels any tenant's training, as {@link #cancel} does for its tenant. */
  public Optional<Training> cancelAny(UUID id) {
    return findAny(id).flatMap(t -> cancel(t.tenantId(), id));
  }

  // ---- the workers' side (system scope) ----

  /**
   * Claims the oldest training that is queued or whose worker's lease ran out, with its dataset and
   * the checkpoint to resume from. A training whose attempts are used up fails instead.
   */
  public Optional<Claim> claimNext(String owner, Duration lease) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set status = 'failed', error_type = 'worker-lost',"
                          + " error_detail = 'the workers running this training stopped '"
                          + " || attempts || ' times', finished_at = now(),"
                          + " lease_owner = null, lease_expires_at = null"
                          + " where status = 'running' and lease_expires_at < now()"
                          + " and attempts >= max_attempts")) {
                st.executeUpdate();
              }
              Optional<Training> claimed;
              try (var st =
                  c.prepareStatement(
                      "update trainings set status = 'running', attempts = attempts + 1,"
                          + " lease_owner = ?, lease_expires_at = now() + ?::interval,"
                          + " started_at = coalesce(started_at, now())"
                          + " where id = (select id from trainings where status = 'queued'"
                          + " or (status = 'running' and lease_expires_at < now())"
                          + " order by created_at for update skip locked limit 1)"
                          + " returning "
                          + COLUMNS)) {
                st.setString(1, owner);
                st.setString(2, Rows.interval(lease));
                try (ResultSet rs = st.executeQuery()) {
                  claimed = rs.next() ? Optional.of(training(rs)) : Optional.empty();
                }
              }
              if (claimed.isEmpty()) {
                return Optional.empty();
              }
              Training t = claimed.get();
              try (var st =
                  c.prepareStatement(
                      "select d.bytes, t.checkpoint from training_datasets d"
                          + " join trainings t on t.id = d.training_id where d.training_id = ?")) {
                st.setObject(1, t.id());
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return Optional.of(new Claim(t, t.attempts(), rs.getBytes(1), rs.getBytes(2)));
                }
              }
            });
  }

  /** Extends the claim's lease; false if the training is no longer this attempt's to run. */
  public boolean renew(Claim claim, Duration lease) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set lease_expires_at = now() + ?::interval"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, Rows.interval(lease));
                st.setObject(2, claim.training().id());
                st.setInt(3, claim.attempt());
                return st.executeUpdate() == 1;
              }
            });
  }

  /**
   * Commits epoch {@code epoch} in one statement: its report appended to the history, the
   * checkpoint that resumes after it, and its ledger line ({@code trainImages} times the plan's
   * price per image-epoch), fenced by the attempt and by the epoch being the next one. False if the
   * training is no longer this attempt's or the epoch was committed already: nothing is written.
   */
  public boolean epochDone(
      Claim claim, int epoch, int trainImages, JsonNode report, byte[] checkpoint, Duration lease) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "with done as (update trainings set epochs_done = ?, train_images = ?,"
                          + " history = history || jsonb_build_array(?::jsonb), checkpoint = ?,"
                          + " lease_expires_at = now() + ?::interval"
                          + " where id = ? and attempts = ? and status = 'running'"
                          + " and epochs_done = ?"
                          + " returning id, tenant_id, model_name, model_version, train_images),"
                          + " price as (select d.*, p.price_per_image_epoch_micros * d.train_images"
                          + " as amount from done d join tenants t on t.id = d.tenant_id"
                          + " join plans p on p.name = t.plan),"
                          + " ledger as (insert into usage_ledger (training_id, training_epoch,"
                          + " tenant_id, model_name, model_version, megapixels, amount_micros,"
                          + " images) select id, ?, tenant_id, model_name, model_version, 0,"
                          + " amount, train_images from price),"
                          + " spend as (insert into tenant_monthly_spend as s"
                          + " (tenant_id, month, shard, amount_micros)"
                          + " select tenant_id, date_trunc('month', now() at time zone 'UTC')::date,"
                          + " floor(random() * 8)::smallint, amount from price"
                          + " on conflict (tenant_id, month, shard)"
                          + " do update set amount_micros = s.amount_micros + excluded.amount_micros)"
                          + " select count(*) from done")) {
                st.setInt(1, epoch);
                st.setInt(2, trainImages);
                st.setString(3, Json.write(report));
                st.setBytes(4, checkpoint);
                st.setString(5, Rows.interval(lease));
                st.setObject(6, claim.training().id());
                st.setInt(7, claim.attempt());
                st.setInt(8, epoch - 1);
                st.setInt(9, epoch);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return rs.getInt(1) == 1;
                }
              }
            });
  }

  /**
   * Ends the training with its result, in one transaction: the final report, and the artifact
   * registered as the training's version of the tenant's private model, made active. Empty if the
   * training is no longer this attempt's (canceled meanwhile): nothing is registered.
   */
  public Optional<Training> succeed(
      Claim claim, JsonNode report, ModelVersion draft, String description, byte[] artifactZip) {
    Training t = claim.training();
    Optional<Training> done =
        tx.system()
            .call(
                c -> {
                  try (var st =
                      c.prepareStatement(
                          "update trainings set status = 'succeeded', report = ?::jsonb,"
                              + " checkpoint = null, finished_at = now(), lease_owner = null,"
                              + " lease_expires_at = null"
                              + " where id = ? and attempts = ? and status = 'running'")) {
                    st.setString(1, Json.write(report));
                    st.setObject(2, t.id());
                    st.setInt(3, claim.attempt());
                    if (st.executeUpdate() != 1) {
                      return Optional.empty();
                    }
                  }
                  ModelRepository.registerTrained(c, t.tenantId(), draft, description, artifactZip);
                  return select(c, "id = ?", t.id());
                });
    done.ifPresent(x -> ModelRepository.changedElsewhere());
    return done;
  }

  /** Ends the training as failed, fenced like a commit; nothing more is billed. */
  public boolean fail(Claim claim, String errorType, String detail) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set status = 'failed', error_type = ?, error_detail = ?,"
                          + " checkpoint = null, finished_at = now(), lease_owner = null,"
                          + " lease_expires_at = null"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, errorType);
                st.setString(2, detail.length() > 1000 ? detail.substring(0, 1000) : detail);
                st.setObject(3, claim.training().id());
                st.setInt(4, claim.attempt());
                return st.executeUpdate() == 1;
              }
            });
  }

  /**
   * Hands a claimed training back (its worker is stopping): queued again, to resume from its last
   * committed epoch. Its attempt stays counted, since the number fences this worker's writes, but
   * the training is given one more, since nothing went wrong with it.
   */
  public void release(Claim claim) {
    tx.system()
        .run(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update trainings set status = 'queued', max_attempts = max_attempts + 1,"
                          + " lease_owner = null, lease_expires_at = null"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setObject(1, claim.training().id());
                st.setInt(2, claim.attempt());
                st.executeUpdate();
              }
            });
  }

  /** Whether the training is still this attempt's to run. */
  public boolean stillHeld(Claim claim) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select 1 from trainings where id = ? and attempts = ?"
                          + " and status = 'running'")) {
                st.setObject(1, claim.training().id());
                st.setInt(2, claim.attempt());
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next();
                }
              }
            });
  }

  // ---- rows ----

  private static int limits(Connection c, UUID tenant) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select p.max_concurrent_trainings from tenants t join plans p on p.name = t.plan"
                + " where t.id = ?")) {
      st.setObject(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("no tenant " + tenant);
        }
        return rs.getInt(1);
      }
    }
  }

  private static Optional<Training> select(Connection c, String where, Object... args)
      throws SQLException {
    try (var st = c.prepareStatement("select " + COLUMNS + " from trainings where " + where)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(training(rs)) : Optional.empty();
      }
    }
  }

  private static Training training(ResultSet rs) throws SQLException {
    String report = rs.getString("report");
    return new Training(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        rs.getString("model_name"),
        rs.getInt("model_version"),
        rs.getString("task"),
        Training.Status.valueOf(rs.getString("status").toUpperCase()),
        Json.read(rs.getString("settings"), new TypeReference<JsonNode>() {}),
        Json.read(rs.getString("classes"), new TypeReference<List<String>>() {}),
        rs.getInt("images"),
        Rows.nullableInt(rs, "train_images"),
        rs.getInt("epochs_done"),
        Json.read(rs.getString("history"), new TypeReference<JsonNode>() {}),
        report == null ? null : Json.read(report, new TypeReference<JsonNode>() {}),
        rs.getInt("attempts"),
        rs.getString("error_type"),
        rs.getString("error_detail"),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "started_at"),
        Rows.instant(rs, "finished_at"));
  }
}
