package io.retina.platform.models;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The registry's record of how each node last loaded each model version: loaded, from which
 * canonical forms, or failed, and why. Thread-safe.
 */
public final class ModelLoads {
  /** The longest failure detail kept; TensorFlow's messages can run to pages. */
  static final int MAX_DETAIL = 2000;

  /** One model file of a loaded version: its source's digest and its canonical form's. */
  public record Form(String file, String sourceDigest, String canonicalDigest) {}

  /** One node's last load of one version. {@code detail} is null unless it failed. */
  public record Load(
      String modelName,
      int version,
      String node,
      boolean loaded,
      String detail,
      List<Form> forms,
      Instant at) {}

  private final Tx tx;

  ModelLoads(Tx tx) {
    this.tx = tx;
  }

  /** Records that {@code node} loaded the version from these forms. */
  public void loaded(String name, int version, String node, List<Form> forms) {
    upsert(name, version, node, null, forms);
  }

  /** Records that {@code node} failed to load the version, and why. */
  public void failed(String name, int version, String node, String why) {
    String detail = why == null || why.isBlank() ? "no reason given" : why.strip();
    if (detail.length() > MAX_DETAIL) {
      detail = detail.substring(0, MAX_DETAIL - 1) + "…";
    }
    upsert(name, version, node, detail, List.of());
  }

  /** Every node's last load of every version, by model, version and node. */
  public List<Load> all() {
    return query("select * from model_loads order by model_name, version, node");
  }

  /**
   * Each node's last failed load of a version that is active: a version tenants get by default that
   * some node can't serve. By model, version and node.
   */
  public List<Load> degraded() {
    return query(
        "select l.* from model_loads l join model_versions v"
            + " on v.model_name = l.model_name and v.version = l.version"
            + " where v.status = 'active' and l.outcome = 'failed'"
            + " order by l.model_name, l.version, l.node");
  }

  private List<Load> query(String sql) {
    return tx.call(
        c -> {
          try (var st = c.prepareStatement(sql);
              ResultSet rs = st.executeQuery()) {
            List<Load> loads = new ArrayList<>();
            while (rs.next()) {
              loads.add(load(rs));
            }
            return loads;
          }
        });
  }

  private void upsert(String name, int version, String node, String detail, List<Form> forms) {
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into model_loads (model_name, version, node, outcome, detail, forms)"
                      + " values (?, ?, ?, ?, ?, ?::jsonb)"
                      + " on conflict (model_name, version, node) do update set"
                      + " outcome = excluded.outcome, detail = excluded.detail,"
                      + " forms = excluded.forms, at = now()")) {
            st.setString(1, name);
            st.setInt(2, version);
            st.setString(3, node);
            st.setString(4, detail == null ? "loaded" : "failed");
            st.setString(5, detail);
            st.setString(6, Json.write(forms));
            st.executeUpdate();
          }
        });
  }

  private static Load load(ResultSet rs) throws SQLException {
    List<Map<String, String>> forms =
        Json.read(rs.getString("forms"), new TypeReference<List<Map<String, String>>>() {});
    return new Load(
        rs.getString("model_name"),
        rs.getInt("version"),
        rs.getString("node"),
        rs.getString("outcome").equals("loaded"),
        rs.getString("detail"),
        forms.stream()
            .map(f -> new Form(f.get("file"), f.get("sourceDigest"), f.get("canonicalDigest")))
            .toList(),
        rs.getTimestamp("at").toInstant());
  }
}
