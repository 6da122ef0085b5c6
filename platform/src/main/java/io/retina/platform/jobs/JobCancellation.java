package io.retina.platform.jobs;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The one statement that cancels unfinished jobs, whoever asks: the tenant, an operator, or the
 * deletion of the tenant. Only queued and running jobs change; a running job's worker finds its
 * fence gone (every write it makes needs the job still running) and its result is discarded.
 */
public final class JobCancellation {
  private JobCancellation() {}

  /**
   * Cancels the tenant's job {@code jobId} if it has not finished, or every unfinished job of the
   * tenant when {@code jobId} is null, in the caller's transaction; answers how many it canceled.
   */
  public static int cancelUnfinished(Connection c, UUID tenantId, UUID jobId, String reason)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "update jobs set status = 'canceled', finished_at = now(), lease_owner = null,"
                + " lease_expires_at = null, error_type = 'canceled', error_detail = ?"
                + " where tenant_id = ? and status in ('queued', 'running')"
                + (jobId == null ? "" : " and id = ?"))) {
      st.setString(1, reason);
      st.setObject(2, tenantId);
      if (jobId != null) {
        st.setObject(3, jobId);
      }
      return st.executeUpdate();
    }
  }
}
