package io.retina.platform.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What each worker node last said about itself (its heartbeat): the device its models run on and
 * the model versions it holds in memory. A beat replaces the node's last one unless it is older, so
 * beats written out of order leave the newest. Thread-safe.
 */
public final class WorkerNodes {
  /** A model version held in a node's memory, the size of its weights, and whether it is pinned. */
  public record Resident(String version, long bytes, boolean pinned) {}

  /**
   * One node's heartbeat: {@code device} is {@code gpu} or {@code cpu}; {@code every} is how often
   * the node beats, so a reader can tell a late one; {@code at} is by the node's clock.
   */
  public record Beat(
      String node,
      List<String> roles,
      String device,
      String deviceDescription,
      long memoryBudgetBytes,
      List<Resident> resident,
      Duration every,
      Instant at) {

    /** Whether the node has missed more than two beats by {@code now}. */
    public boolean late(Instant now) {
      return at.plus(every.multipliedBy(3)).isBefore(now);
    }
  }

  private final Tx tx;

  public WorkerNodes(Tx tx) {
    this.tx = tx;
  }

  /** Records a node's beat, unless a newer one of the same node is already recorded. */
  public void beat(Beat b) {
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into worker_nodes (node, roles, device, device_description,"
                      + " memory_budget, resident, heartbeat_every_ms, heartbeat_at)"
                      + " values (?, ?::jsonb, ?, ?, ?, ?::jsonb, ?, ?)"
                      + " on conflict (node) do update set roles = excluded.roles,"
                      + " device = excluded.device, device_description = excluded.device_description,"
                      + " memory_budget = excluded.memory_budget, resident = excluded.resident,"
                      + " heartbeat_every_ms = excluded.heartbeat_every_ms,"
                      + " heartbeat_at = excluded.heartbeat_at"
                      + " where worker_nodes.heartbeat_at <= excluded.heartbeat_at")) {
            st.setString(1, b.node());
            st.setString(2, Json.write(b.roles()));
            st.setString(3, b.device());
            st.setString(4, b.deviceDescription());
            st.setLong(5, b.memoryBudgetBytes());
            st.setString(6, Json.write(b.resident()));
            st.setInt(7, (int) Math.min(Integer.MAX_VALUE, b.every().toMillis()));
            st.setTimestamp(8, Timestamp.from(b.at()));
            st.executeUpdate();
          }
        });
  }

  /** Every node's last beat, newest first. */
  public List<Beat> all() {
    return tx.call(
        c -> {
          try (var st =
                  c.prepareStatement(
                      "select * from worker_nodes order by heartbeat_at desc, node");
              ResultSet rs = st.executeQuery()) {
            List<Beat> beats = new ArrayList<>();
            while (rs.next()) {
              beats.add(beat(rs));
            }
            return beats;
          }
        });
  }

  private static Beat beat(ResultSet rs) throws SQLException {
    return new Beat(
        rs.getString("node"),
        Json.read(rs.getString("roles"), new TypeReference<List<String>>() {}),
        rs.getString("device"),
        rs.getString("device_description"),
        rs.getLong("memory_budget"),
        Json.read(rs.getString("resident"), new TypeReference<List<Resident>>() {}),
        Duration.ofMillis(rs.getInt("heartbeat_every_ms")),
        rs.getTimestamp("heartbeat_at").toInstant());
  }
}
