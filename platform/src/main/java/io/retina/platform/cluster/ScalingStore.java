package io.retina.platform.cluster;

import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Each version's replica settings (columns of {@code model_versions}) and the log of scaling
 * decisions ({@code scaling_events}). Thread-safe; every call is one transaction.
 */
public final class ScalingStore {

  /** One change of a version's replica count, and why. */
  public record Event(
      Instant at,
      String runner,
      String direction,
      int replicasFrom,
      int replicasTo,
      String node,
      String reason) {}

  private final Tx tx;

  public ScalingStore(Tx tx) {
    this.tx = tx.system();
  }

  /** The version's own settings; empty if there is no such version. */
  public Optional<Scaling.Overrides> overrides(RunnerId runner) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select min_replicas, max_replicas, target_wait_ms, max_wait_ms, device"
                      + " from model_versions where model_name = ? and version = ?")) {
            st.setString(1, runner.model());
            st.setInt(2, runner.version());
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              Long target = Rows.nullableLong(rs, "target_wait_ms");
              Long max = Rows.nullableLong(rs, "max_wait_ms");
              return Optional.of(
                  new Scaling.Overrides(
                      nullableInt(rs, "min_replicas"),
                      nullableInt(rs, "max_replicas"),
                      target == null ? null : Duration.ofMillis(target),
                      max == null ? null : Duration.ofMillis(max),
                      rs.getString("device")));
            }
          }
        });
  }

  /** Replaces the version's own settings; false if there is no such version. */
  public boolean set(RunnerId runner, Scaling.Overrides o) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "update model_versions set min_replicas = ?, max_replicas = ?,"
                      + " target_wait_ms = ?, max_wait_ms = ?, device = ?"
                      + " where model_name = ? and version = ?")) {
            setInt(st, 1, o.minReplicas());
            setInt(st, 2, o.maxReplicas());
            setInt(st, 3, o.targetWait() == null ? null : (int) o.targetWait().toMillis());
            setInt(st, 4, o.maxWait() == null ? null : (int) o.maxWait().toMillis());
            st.setString(5, o.device());
            st.setString(6, runner.model());
            st.setInt(7, runner.version());
            return st.executeUpdate() == 1;
          }
        });
  }

  /** Appends a scaling decision. */
  public void record(Event e) {
    RunnerId runner = RunnerId.parse(e.runner());
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into scaling_events (at, model_name, version, direction, replicas_from,"
                      + " replicas_to, node, reason) values (?, ?, ?, ?, ?, ?, ?, ?)")) {
            st.setTimestamp(1, java.sql.Timestamp.from(e.at()));
            st.setString(2, runner.model());
            st.setInt(3, runner.version());
            st.setString(4, e.direction());
            st.setInt(5, e.replicasFrom());
            st.setInt(6, e.replicasTo());
            st.setString(7, e.node());
            st.setString(8, e.reason().length() > 500 ? e.reason().substring(0, 500) : e.reason());
            st.executeUpdate();
          }
        });
  }

  /** The latest decisions, newest first, of every version or of one. */
  public List<Event> recent(RunnerId only, int limit) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select * from scaling_events"
                      + (only == null ? "" : " where model_name = ? and version = ?")
                      + " order by at desc, id desc limit ?")) {
            int i = 1;
            if (only != null) {
              st.setString(i++, only.model());
              st.setInt(i++, only.version());
            }
            st.setInt(i, limit);
            try (ResultSet rs = st.executeQuery()) {
              List<Event> events = new ArrayList<>();
              while (rs.next()) {
                events.add(event(rs));
              }
              return events;
            }
          }
        });
  }

  /** Deletes decisions older than {@code age}; returns how many. */
  public int trim(Duration age) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement("delete from scaling_events where at < now() - ?::interval")) {
            st.setString(1, age.toMillis() + " milliseconds");
            return st.executeUpdate();
          }
        });
  }

  private static Event event(ResultSet rs) throws SQLException {
    return new Event(
        rs.getTimestamp("at").toInstant(),
        new RunnerId(rs.getString("model_name"), rs.getInt("version")).toString(),
        rs.getString("direction"),
        rs.getInt("replicas_from"),
        rs.getInt("replicas_to"),
        rs.getString("node"),
        rs.getString("reason"));
  }

  private static Integer nullableInt(ResultSet rs, String column) throws SQLException {
    int v = rs.getInt(column);
    return rs.wasNull() ? null : v;
  }

  private static void setInt(java.sql.PreparedStatement st, int i, Integer v) throws SQLException {
    if (v == null) {
      st.setNull(i, Types.INTEGER);
    } else {
      st.setInt(i, v);
    }
  }
}
