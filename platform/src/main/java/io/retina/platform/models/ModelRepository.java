package io.retina.platform.models;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Models and their versions in PostgreSQL. Thread-safe. */
public final class ModelRepository {
  private static final String SELECT =
      "select v.*, m.task from model_versions v join models m on m.name = v.model_name";

  private final Tx tx;

  public ModelRepository(Tx tx) {
    this.tx = tx;
  }

  /**
   * Registers a version, creating its model if new. Re-registering the same name@version with the
   * same digest is a no-op, so built-in versions can be registered at every start; a different
   * digest is refused, since a shipped version never changes.
   */
  public void register(ModelVersion v, String description) {
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into models (name, task, description) values (?, ?, ?)"
                      + " on conflict (name) do update set description = excluded.description")) {
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
            return;
          }
          try (var st =
              c.prepareStatement(
                  "insert into model_versions (model_name, version, format, source, artifact_digest,"
                      + " artifact, parameters, batch_safe, price_per_image_micros,"
                      + " price_per_megapixel_micros, status)"
                      + " values (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?)")) {
            st.setString(1, v.modelName());
            st.setInt(2, v.version());
            st.setString(3, v.format());
            st.setString(4, v.source());
            st.setString(5, v.artifactDigest());
            st.setString(6, Json.write(v.artifact()));
            st.setString(7, Json.write(v.parameters()));
            st.setBoolean(8, v.batchSafe());
            st.setLong(9, v.pricePerImageMicros());
            st.setLong(10, v.pricePerMegapixelMicros());
            st.setString(11, v.status().dbValue());
            st.executeUpdate();
          }
        });
  }

  /** The active version of a model. */
  public Optional<ModelVersion> findActive(String name) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(SELECT + " where v.model_name = ? and v.status = 'active'")) {
            st.setString(1, name);
            return first(st.executeQuery());
          }
        });
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

  /** Model descriptions by name. */
  public Map<String, String> descriptions() {
    return tx.call(
        c -> {
          var out = new java.util.TreeMap<String, String>();
          try (var st = c.prepareStatement("select name, description from models");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.put(rs.getString("name"), rs.getString("description"));
            }
          }
          return out;
        });
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
        rs.getLong("price_per_image_micros"),
        rs.getLong("price_per_megapixel_micros"),
        ModelVersion.Status.valueOf(rs.getString("status").toUpperCase()));
  }
}
