package io.retina.platform.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The admin audit trail: append-only for the application. Thread-safe. */
public final class AuditRepository {
  private final Tx tx;

  public AuditRepository(Tx tx) {
    this.tx = tx.system();
  }

  public void record(
      String actor, String action, String targetType, String targetId, Map<String, ?> details) {
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into admin_audit (actor, action, target_type, target_id, details)"
                      + " values (?, ?, ?, ?, ?::jsonb)")) {
            st.setString(1, actor);
            st.setString(2, action);
            st.setString(3, targetType);
            st.setString(4, targetId);
            st.setString(5, Json.write(details));
            st.executeUpdate();
          }
        });
  }

  /** The newest entries first, at most {@code limit}, older than {@code beforeId} when given. */
  public List<AuditEntry> list(Long beforeId, int limit) {
    return tx.call(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select * from admin_audit where (? :: bigint is null or id < ?)"
                      + " order by id desc limit ?")) {
            st.setObject(1, beforeId);
            st.setObject(2, beforeId);
            st.setInt(3, limit);
            List<AuditEntry> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new AuditEntry(
                        rs.getLong("id"),
                        rs.getString("actor"),
                        rs.getString("action"),
                        rs.getString("target_type"),
                        rs.getString("target_id"),
                        Json.read(
                            rs.getString("details"), new TypeReference<Map<String, Object>>() {}),
                        Rows.instant(rs, "at")));
              }
            }
            return out;
          }
        });
  }
}
