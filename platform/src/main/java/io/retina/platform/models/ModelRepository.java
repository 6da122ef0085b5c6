package io.retina.platform.models;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Memo;
import io.retina.platform.store.Tx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Models and their versions in PostgreSQL. Thread-safe. */
public final class ModelRepository {
  private static final String SELECT =
      "select v.* from model_versions v join models m on m.name = v.model_name";

  /** Changes to versions made in this JVM: they void {@link #recentActive}'s memory at once. */
  private static final Memo.Changes CHANGES = new Memo.Changes();

  private final Tx tx;
  private final Memo<String, ModelVersion> active =
      new Memo<>(Duration.ofSeconds(1), 1_000, CHANGES);

  public ModelRepository(Tx tx) {
    this.tx = tx;
  }

  /** How each node last loaded each version. */
  public ModelLoads loads() {
    return new ModelLoads(tx);
  }

  /**
   * Registers a version with its description (the network it runs), creating its model if new.
   * Re-registering the same name@version with the same digest only brings what it says about its
   * package up to date (description, task, files, parameters, batching, prices; never its status),
   * so built-in versions can be registered at every start; a different digest is refused, since a
   * shipped version's package never changes. A new version that comes active takes over from the
   * active one as a promotion would: that one becomes {@code staged} and is remembered for {@link
   * #rollback}. So a release whose catalog makes a new version the default changes the default of a
   * running store too, once.
   */
  public void register(ModelVersion v, String description) {
    CHANGES.run(
        tx,
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into models (name, task, description) values (?, ?, ?)"
                      + " on conflict (name) do nothing")) {
            st.setString(1, v.modelName());
            st.setString(2, v.task());
            st.setString(3, description);
            st.executeUpdate();
          }
          Optional<ModelVersion> existing = query(c, v.modelName(), v.version());
          if (existing.isPresent()) {
            if (!existing.get().artifactDigest().equals(v.artifactDigest())) {
              throw new IllegalStateException(
                  v.ref() + " is already registered with another artifact digest");
            }
            if (!existing.get().equals(v.withStatus(existing.get().status()))
                || !description.equals(description(c, v.modelName(), v.version()))) {
              refreshVersion(c, v, description);
            }
            return;
          }
          Integer active = activeNumber(c, v.modelName());
          if (v.status() == ModelVersion.Status.ACTIVE && active != null) {
            insertVersion(c, v, v.version(), ModelVersion.Status.STAGED, description);
            activate(c, v.modelName(), active, v.version());
            setPrevious(c, v.modelName(), active);
            return;
          }
          insertVersion(c, v, v.version(), v.status(), description);
        });
  }

  /** The active version of a model. */
  /**
   * The active version as read within the last second: for admitting a job, which resolves its
   * model on every submit. A promotion or rollback made through this node applies at once; one made
   * through another node within a second.
   */
  public Optional<ModelVersion> recentActive(String name) {
    return active.get(name, () -> findActive(name));
  }

  public Optional<ModelVersion> findActive(String name) {
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(SELECT + " where v.model_name = ? and v.status = 'active'")) {
            st.setString(1, name);
            return first(st.executeQuery());
          }
        });
  }

  /**
   * The active version of a tenant's private model ({@code <tenant>/<name>}), if {@code tenant}
   * owns it; never memoized, so that no node answers for another tenant's model from memory.
   */
  public Optional<ModelVersion> findActiveFor(String name, UUID tenant) {
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  SELECT
                      + " where v.model_name = ? and v.status = 'active' and m.owner_tenant = ?")) {
            st.setString(1, name);
            st.setObject(2, tenant);
            return first(st.executeQuery());
          }
        });
  }

  /** Whether a model name is a tenant's private one: {@code <tenant>/<name>}. */
  public static boolean isPrivateName(String name) {
    return name.indexOf('/') >= 0;
  }

  /**
   * Checks, inside the caller's transaction, that {@code tenant} may make a version of the private
   * model {@code name} for {@code task}: the name is free or already the tenant's, for that task.
   *
   * @throws NameTakenException otherwise
   */
  public static void requirePrivateName(Connection c, String name, UUID tenant, String task)
      throws SQLException {
    try (var st = c.prepareStatement("select owner_tenant, task from models where name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          return;
        }
        UUID owner = rs.getObject(1, UUID.class);
        if (!tenant.equals(owner)) {
          throw new NameTakenException("The model name '" + name + "' is taken; choose another.");
        }
        if (!task.equals(rs.getString(2))) {
          throw new NameTakenException(
              "'"
                  + name
                  + "' is a "
                  + rs.getString(2)
                  + " model; a "
                  + task
                  + " training needs"
                  + " another name.");
        }
      }
    }
  }

  /** A private model name that is someone else's, or the tenant's for another task. */
  public static final class NameTakenException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    NameTakenException(String message) {
      super(message);
    }
  }

  /** The number the model's next version gets, inside the caller's transaction. */
  public static int nextVersion(Connection c, String name) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select coalesce(max(version), 0) + 1 from model_versions where model_name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /**
   * Registers a tenant's trained version inside the caller's transaction: the private model
   * (created, owned by {@code owner}, if new), the artifact, and the version under {@code
   * draft.version()}, made active (the version active until now is remembered for rollback). Call
   * {@link #changedElsewhere} once the transaction committed.
   */
  public static void registerTrained(
      Connection c, UUID owner, ModelVersion draft, String description, byte[] artifactZip)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into models (name, task, description, owner_tenant) values (?, ?, ?, ?)"
                + " on conflict (name) do nothing")) {
      st.setString(1, draft.modelName());
      st.setString(2, draft.task());
      st.setString(3, description);
      st.setObject(4, owner);
      st.executeUpdate();
    }
    lockModel(c, draft.modelName(), true).orElseThrow();
    storeArtifact(c, draft.artifactDigest(), artifactZip);
    insertVersion(c, draft, draft.version(), ModelVersion.Status.STAGED, description);
    Integer active = activeNumber(c, draft.modelName());
    activate(c, draft.modelName(), active, draft.version());
    if (active != null) {
      setPrevious(c, draft.modelName(), active);
    }
  }

  /** Voids this node's memory of active versions after a change made with a static method. */
  public static void changedElsewhere() {
    CHANGES.changed();
  }

  /** A version by its number, whatever its status. */
  public Optional<ModelVersion> find(String name, int version) {
    return tx.call(c -> query(c, name, version));
  }

  /** Every version that is not retired, by model name and version. */
  public List<ModelVersion> listServable() {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  SELECT + " where v.status <> 'retired' order by v.model_name, v.version")) {
            List<ModelVersion> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(version(rs));
              }
            }
            return out;
          }
        });
  }

  /**
   * The condition on {@code v} that a tenant (the statement's parameter) may run and see it: not
   * retired, and published (active, the catalog's, or once active) or with the tenant as a canary.
   */
  private static final String RUNNABLE_BY_TENANT =
      "v.status <> 'retired' and (m.owner_tenant is null or m.owner_tenant = ?)"
          + " and (v.published or exists (select 1 from model_canaries k"
          + " where k.model_name = v.model_name and k.version = v.version and k.tenant_id = ?))";

  /** The versions {@code tenant} may run and see, by model and version. */
  public List<ModelVersion> listFor(UUID tenant) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  SELECT + " where " + RUNNABLE_BY_TENANT + " order by v.model_name, v.version")) {
            st.setObject(1, tenant);
            st.setObject(2, tenant);
            List<ModelVersion> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(version(rs));
              }
            }
            return out;
          }
        });
  }

  /** The version, if {@code tenant} may run it (see {@link #listFor}), in one query. */
  public Optional<ModelVersion> findFor(String name, int version, UUID tenant) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  SELECT + " where v.model_name = ? and v.version = ? and " + RUNNABLE_BY_TENANT)) {
            st.setString(1, name);
            st.setInt(2, version);
            st.setObject(3, tenant);
            st.setObject(4, tenant);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(version(rs)) : Optional.empty();
            }
          }
        });
  }

  /** Whether every tenant may run the version, or only its canaries. */
  public boolean isPublished(String name, int version) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select published from model_versions where model_name = ? and version = ?")) {
            st.setString(1, name);
            st.setInt(2, version);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() && rs.getBoolean(1);
            }
          }
        });
  }

  /** The tenants that may run the staged version before it is promoted. */
  public List<UUID> canaries(String name, int version) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select tenant_id from model_canaries where model_name = ? and version = ?"
                      + " order by added_at, tenant_id")) {
            st.setString(1, name);
            st.setInt(2, version);
            List<UUID> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getObject(1, UUID.class));
              }
            }
            return out;
          }
        });
  }

  /**
   * Makes {@code tenants} the version's canaries, in one transaction. False if there is no such
   * version; a tenant id that doesn't exist fails the transaction (a foreign key).
   */
  public boolean setCanaries(String name, int version, Set<UUID> tenants) {
    return CHANGES.write(
        tx,
        c -> {
          if (query(c, name, version).isEmpty()) {
            return false;
          }
          try (var st =
              c.prepareStatement(
                  "delete from model_canaries where model_name = ? and version = ?")) {
            st.setString(1, name);
            st.setInt(2, version);
            st.executeUpdate();
          }
          try (var st =
              c.prepareStatement(
                  "insert into model_canaries (model_name, version, tenant_id) values (?, ?, ?)")) {
            for (UUID t : tenants) {
              st.setString(1, name);
              st.setInt(2, version);
              st.setObject(3, t);
              st.addBatch();
            }
            st.executeBatch();
          }
          return true;
        });
  }

  /** Each version's description, by its {@link ModelVersion#ref}. */
  public Map<String, String> descriptions() {
    return tx.call(
        c -> {
          var out = new java.util.TreeMap<String, String>();
          try (var st =
                  c.prepareStatement(
                      "select model_name, version, description from model_versions");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.put(
                  rs.getString("model_name") + "@" + rs.getInt("version"),
                  rs.getString("description"));
            }
          }
          return out;
        });
  }

  /** Every model, by name. */
  public List<Model> models() {
    return tx.call(
        c -> {
          List<Model> out = new ArrayList<>();
          try (var st = c.prepareStatement(SELECT_MODEL + " order by m.name");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.add(model(rs));
            }
          }
          return out;
        });
  }

  /** Every version of every model, retired ones too, by model name and version. */
  public List<ModelVersion> listAll() {
    return tx.call(
        c -> {
          List<ModelVersion> out = new ArrayList<>();
          try (var st = c.prepareStatement(SELECT + " order by v.model_name, v.version");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.add(version(rs));
            }
          }
          return out;
        });
  }

  /** A model by name. */
  public Optional<Model> model(String name) {
    return tx.call(c -> lockModel(c, name, false));
  }

  /**
   * Stores an uploaded version as {@code staged} under the model's next version number, with its
   * artifact zip (kept once per digest, {@code draft.artifactDigest()}) and this description,
   * creating the model if it is new. The draft's number and status are ignored; the stored version
   * is returned.
   *
   * @throws TaskMismatchException if the model exists with another task
   */
  public ModelVersion stage(ModelVersion draft, String description, Path zip) {
    return CHANGES.write(
        tx,
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into models (name, task, description) values (?, ?, ?)"
                      + " on conflict (name) do nothing")) {
            st.setString(1, draft.modelName());
            st.setString(2, draft.task());
            st.setString(3, description);
            st.executeUpdate();
          }
          Model model = lockModel(c, draft.modelName(), true).orElseThrow();
          if (!model.task().equals(draft.task())) {
            throw new TaskMismatchException(model);
          }
          storeArtifact(c, draft.artifactDigest(), zip);
          int number;
          try (var st =
              c.prepareStatement(
                  "select coalesce(max(version), 0) + 1 from model_versions"
                      + " where model_name = ?")) {
            st.setString(1, draft.modelName());
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              number = rs.getInt(1);
            }
          }
          insertVersion(c, draft, number, ModelVersion.Status.STAGED, description);
          setPublished(c, draft.modelName(), number, false);
          return query(c, draft.modelName(), number).orElseThrow();
        });
  }

  /**
   * Makes a version the active one, in one transaction: the version active until now becomes {@code
   * staged} and is remembered for {@link #rollback}. A retired version cannot be promoted.
   */
  public Transition promote(String name, int version) {
    return CHANGES.write(
        tx,
        c -> {
          if (lockModel(c, name, true).isEmpty()) {
            return Transition.of(Transition.Outcome.NO_SUCH_MODEL, null, null);
          }
          Optional<ModelVersion> target = query(c, name, version);
          if (target.isEmpty()) {
            return Transition.of(Transition.Outcome.NO_SUCH_VERSION, null, version);
          }
          if (target.get().status() == ModelVersion.Status.RETIRED) {
            return Transition.of(Transition.Outcome.RETIRED, null, version);
          }
          Integer active = activeNumber(c, name);
          if (active != null && active == version) {
            return Transition.of(Transition.Outcome.UNCHANGED, active, version);
          }
          activate(c, name, active, version);
          if (active != null) {
            setPrevious(c, name, active);
          }
          return Transition.of(Transition.Outcome.CHANGED, active, version);
        });
  }

  /**
   * Re-activates the version that was active before the current one, in one transaction; the
   * current one becomes {@code staged} and is remembered in turn, so a second rollback undoes the
   * first.
   */
  public Transition rollback(String name) {
    return CHANGES.write(
        tx,
        c -> {
          Optional<Model> model = lockModel(c, name, true);
          if (model.isEmpty()) {
            return Transition.of(Transition.Outcome.NO_SUCH_MODEL, null, null);
          }
          Integer previous = model.get().previousVersion();
          Integer active = activeNumber(c, name);
          if (previous == null
              || previous.equals(active)
              || query(c, name, previous)
                  .map(v -> v.status() == ModelVersion.Status.RETIRED)
                  .orElse(true)) {
            return Transition.of(Transition.Outcome.NO_PREVIOUS, active, null);
          }
          activate(c, name, active, previous);
          setPrevious(c, name, active);
          return Transition.of(Transition.Outcome.CHANGED, active, previous);
        });
  }

  /**
   * Retires a version: no new job may name it, pinned or not; jobs already queued on it still run.
   * The active version cannot be retired (promote another first). Retiring is final.
   */
  public Transition retire(String name, int version) {
    return CHANGES.write(
        tx,
        c -> {
          if (lockModel(c, name, true).isEmpty()) {
            return Transition.of(Transition.Outcome.NO_SUCH_MODEL, null, null);
          }
          Optional<ModelVersion> target = query(c, name, version);
          if (target.isEmpty()) {
            return Transition.of(Transition.Outcome.NO_SUCH_VERSION, version, null);
          }
          switch (target.get().status()) {
            case ACTIVE:
              return Transition.of(Transition.Outcome.ACTIVE, version, null);
            case RETIRED:
              return Transition.of(Transition.Outcome.UNCHANGED, version, null);
            default:
              break;
          }
          setStatus(c, name, version, ModelVersion.Status.RETIRED);
          try (var st =
              c.prepareStatement(
                  "update models set previous_version = null"
                      + " where name = ? and previous_version = ?")) {
            st.setString(1, name);
            st.setInt(2, version);
            st.executeUpdate();
          }
          return Transition.of(Transition.Outcome.CHANGED, version, null);
        });
  }

  /**
   * Copies an uploaded artifact's zip to {@code out}; false if no artifact has that digest.
   * Blocking; the driver reads the whole value into memory first.
   */
  public boolean readArtifact(String digest, OutputStream out) throws IOException {
    byte[] bytes =
        tx.call(
            c -> {
              try (var st =
                  c.prepareStatement("select bytes from model_artifacts where digest = ?")) {
                st.setString(1, digest);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? rs.getBytes(1) : null;
                }
              }
            });
    if (bytes == null) {
      return false;
    }
    out.write(bytes);
    return true;
  }

  /** What a lifecycle change did, with the active version before ({@code from}) and after. */
  public record Transition(Outcome outcome, Integer from, Integer to) {
    public enum Outcome {
      CHANGED,
      /** Already so: promoting the active version, retiring a retired one. */
      UNCHANGED,
      NO_SUCH_MODEL,
      NO_SUCH_VERSION,
      /** A retired version cannot be promoted. */
      RETIRED,
      /** The active version cannot be retired. */
      ACTIVE,
      /** Nothing to roll back to: no version was active before, or it was retired. */
      NO_PREVIOUS
    }

    static Transition of(Outcome outcome, Integer from, Integer to) {
      return new Transition(outcome, from, to);
    }
  }

  /** An upload names another task than its model's. */
  public static final class TaskMismatchException extends IllegalArgumentException {
    private final transient Model model;

    TaskMismatchException(Model model) {
      super("model " + model.name() + " is a " + model.task() + " model");
      this.model = model;
    }

    public Model model() {
      return model;
    }
  }

  private static void storeArtifact(Connection c, String digest, byte[] zip) throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into model_artifacts (digest, size_bytes, bytes) values (?, ?, ?)"
                + " on conflict (digest) do nothing")) {
      st.setString(1, digest);
      st.setLong(2, zip.length);
      st.setBytes(3, zip);
      st.executeUpdate();
    }
  }

  private static void storeArtifact(Connection c, String digest, Path zip) throws SQLException {
    try (var st = c.prepareStatement("select 1 from model_artifacts where digest = ?")) {
      st.setString(1, digest);
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next()) {
          return; // the same bytes, uploaded before
        }
      }
    }
    try (var st =
            c.prepareStatement(
                "insert into model_artifacts (digest, size_bytes, bytes) values (?, ?, ?)");
        InputStream in = Files.newInputStream(zip)) {
      long size = Files.size(zip);
      st.setString(1, digest);
      st.setLong(2, size);
      st.setBinaryStream(3, in, size);
      st.executeUpdate();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A model with its active version's description (a model without one keeps the description it was
   * created with).
   */
  private static final String SELECT_MODEL =
      "select m.name, m.task, coalesce(a.description, m.description) as description,"
          + " m.previous_version from models m"
          + " left join model_versions a on a.model_name = m.name and a.status = 'active'";

  private static Optional<Model> lockModel(Connection c, String name, boolean forUpdate)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            SELECT_MODEL + " where m.name = ?" + (forUpdate ? " for update of m" : ""))) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(model(rs)) : Optional.empty();
      }
    }
  }

  private static Model model(ResultSet rs) throws SQLException {
    int previous = rs.getInt("previous_version");
    boolean none = rs.wasNull();
    return new Model(
        rs.getString("name"),
        rs.getString("task"),
        rs.getString("description"),
        none ? null : previous);
  }

  private static Integer activeNumber(Connection c, String name) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select version from model_versions where model_name = ? and status = 'active'")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getInt(1) : null;
      }
    }
  }

  /** Demotes the active version first: the one-active index is checked per statement. */
  private static void activate(Connection c, String name, Integer active, int version)
      throws SQLException {
    if (active != null) {
      setStatus(c, name, active, ModelVersion.Status.STAGED);
    }
    setStatus(c, name, version, ModelVersion.Status.ACTIVE);
    setPublished(c, name, version, true);
  }

  private static void setPublished(Connection c, String name, int version, boolean published)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "update model_versions set published = ? where model_name = ? and version = ?")) {
      st.setBoolean(1, published);
      st.setString(2, name);
      st.setInt(3, version);
      st.executeUpdate();
    }
  }

  private static void setStatus(Connection c, String name, int version, ModelVersion.Status status)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "update model_versions set status = ? where model_name = ? and version = ?")) {
      st.setString(1, status.dbValue());
      st.setString(2, name);
      st.setInt(3, version);
      st.executeUpdate();
    }
  }

  private static void setPrevious(Connection c, String name, int previous) throws SQLException {
    try (var st = c.prepareStatement("update models set previous_version = ? where name = ?")) {
      st.setInt(1, previous);
      st.setString(2, name);
      st.executeUpdate();
    }
  }

  /**
   * What a version says about how to use its package, in the order {@link #bindDescription} binds
   * it: everything but its identity, its artifact's digest and its status.
   */
  private static final String DESCRIPTION_COLUMNS =
      "task, format, source, artifact, parameters, batch_safe, max_batch_size, max_batch_delay_ms,"
          + " price_per_image_micros, price_per_megapixel_micros";

  private static final String DESCRIPTION_VALUES = "?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?";

  private static void insertVersion(
      Connection c, ModelVersion v, int number, ModelVersion.Status status, String description)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into model_versions (model_name, version, artifact_digest, status, description, "
                + DESCRIPTION_COLUMNS
                + ") values (?, ?, ?, ?, ?, "
                + DESCRIPTION_VALUES
                + ")")) {
      st.setString(1, v.modelName());
      st.setInt(2, number);
      st.setString(3, v.artifactDigest());
      st.setString(4, status.dbValue());
      st.setString(5, description);
      bindDescription(st, 6, v);
      st.executeUpdate();
    }
  }

  /** A version's own description, as stored. */
  private static String description(Connection c, String name, int version) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select description from model_versions where model_name = ? and version = ?")) {
      st.setString(1, name);
      st.setInt(2, version);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /**
   * Brings a built-in version's description and what it says about its package up to date: the
   * catalog may learn to use more of the same package (another scale's files, a parameter), fix how
   * it reads it, or describe it better. Its status stays as the admin left it.
   */
  private static void refreshVersion(Connection c, ModelVersion v, String description)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "update model_versions set (description, "
                + DESCRIPTION_COLUMNS
                + ") = (?, "
                + DESCRIPTION_VALUES
                + ") where model_name = ? and version = ?")) {
      st.setString(1, description);
      int next = bindDescription(st, 2, v);
      st.setString(next, v.modelName());
      st.setInt(next + 1, v.version());
      st.executeUpdate();
    }
  }

  /** Binds {@link #DESCRIPTION_COLUMNS} from parameter {@code from} on; answers the next one. */
  private static int bindDescription(PreparedStatement st, int from, ModelVersion v)
      throws SQLException {
    st.setString(from, v.task());
    st.setString(from + 1, v.format());
    st.setString(from + 2, v.source());
    st.setString(from + 3, Json.write(v.artifact()));
    st.setString(from + 4, Json.write(v.parameters()));
    st.setBoolean(from + 5, v.batchSafe());
    st.setInt(from + 6, v.maxBatchSize());
    st.setInt(from + 7, v.maxBatchDelayMs());
    st.setLong(from + 8, v.pricePerImageMicros());
    st.setLong(from + 9, v.pricePerMegapixelMicros());
    return from + 10;
  }

  private static Optional<ModelVersion> query(Connection c, String name, int version)
      throws SQLException {
    try (var st = c.prepareStatement(SELECT + " where v.model_name = ? and v.version = ?")) {
      st.setString(1, name);
      st.setInt(2, version);
      return first(st.executeQuery());
    }
  }

  private static Optional<ModelVersion> first(ResultSet rs) throws SQLException {
    try (rs) {
      return rs.next() ? Optional.of(version(rs)) : Optional.empty();
    }
  }

  private static ModelVersion version(ResultSet rs) throws SQLException {
    return new ModelVersion(
        rs.getString("model_name"),
        rs.getInt("version"),
        rs.getString("task"),
        rs.getString("format"),
        rs.getString("source"),
        rs.getString("artifact_digest"),
        Json.read(rs.getString("artifact"), new TypeReference<Map<String, String>>() {}),
        Json.read(rs.getString("parameters"), new TypeReference<List<ParameterSpec>>() {}),
        rs.getBoolean("batch_safe"),
        rs.getInt("max_batch_size"),
        rs.getInt("max_batch_delay_ms"),
        rs.getLong("price_per_image_micros"),
        rs.getLong("price_per_megapixel_micros"),
        ModelVersion.Status.valueOf(rs.getString("status").toUpperCase()));
  }
}
