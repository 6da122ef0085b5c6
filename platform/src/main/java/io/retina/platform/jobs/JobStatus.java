package io.retina.platform.jobs;

/** Where a job is in its life. Succeeded, failed and canceled are final. */
public enum JobStatus {
  QUEUED,
  RUNNING,
  SUCCEEDED,
  FAILED,
  CANCELED;

  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELED;
  }

  public String dbValue() {
    return name().toLowerCase();
  }

  public static JobStatus fromDb(String value) {
    return valueOf(value.toUpperCase());
  }
}
