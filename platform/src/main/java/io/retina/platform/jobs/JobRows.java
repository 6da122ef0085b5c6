package io.retina.platform.jobs;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * How a row of {@code jobs} reads as a {@link Job}, for every class that selects or returns one:
 * the column list and its mapping agree by being kept together.
 */
final class JobRows {
  private JobRows() {}

  /** The columns {@link #job} reads, for a select list or a {@code returning} clause. */
  static final String COLUMNS =
      "id, tenant_id, model_name, model_version, status, params, input_media_type, input_width,"
          + " input_height, input_bytes, input_digest, output_media_type, output_bytes, attempts,"
          + " max_attempts, error_type, error_detail, created_at, started_at, finished_at, progress,"
          + " deadline_at, input_deleted_at, output_deleted_at";

  /** A tenant's job in the caller's transaction; another tenant's id reads as missing. */
  static Optional<Job> find(Connection c, UUID tenantId, UUID jobId) throws SQLException {
    try (var st =
        c.prepareStatement("select " + COLUMNS + " from jobs where id = ? and tenant_id = ?")) {
      st.setObject(1, jobId);
      st.setObject(2, tenantId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(job(rs)) : Optional.empty();
      }
    }
  }

  /** A duration as a PostgreSQL interval literal, for {@code ?::interval}. */
  static Job job(ResultSet rs) throws SQLException {
    return new Job(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        rs.getString("model_name"),
        rs.getInt("model_version"),
        JobStatus.fromDb(rs.getString("status")),
        Json.read(rs.getString("params"), new TypeReference<Map<String, String>>() {}),
        rs.getString("input_media_type"),
        rs.getInt("input_width"),
        rs.getInt("input_height"),
        rs.getLong("input_bytes"),
        rs.getString("input_digest"),
        rs.getString("output_media_type"),
        Rows.nullableLong(rs, "output_bytes"),
        rs.getInt("attempts"),
        rs.getInt("max_attempts"),
        rs.getString("error_type"),
        rs.getString("error_detail"),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "started_at"),
        Rows.instant(rs, "finished_at"),
        rs.getObject("progress") == null ? null : rs.getDouble("progress"),
        Rows.instant(rs, "deadline_at"),
        Rows.instant(rs, "input_deleted_at"),
        Rows.instant(rs, "output_deleted_at"));
  }
}
