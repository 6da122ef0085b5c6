package io.retina.api.jobs;

import io.retina.api.http.Problem;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.models.ModelVersion;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Bounds each version's queue by expected wait: a job that would wait longer than the version's
 * {@code maxWait} is refused with 503 {@code capacity-exhausted} and a {@code Retry-After} of the
 * time the excess takes to drain. The wait is the version's runner's last report plus what this
 * node has admitted since; without a fresh, measured report every job is admitted. Thread-safe.
 */
public final class RunnerCapacity implements Capacity {
  private final RunnerLoads.View loads;

  public RunnerCapacity(RunnerLoads.View loads) {
    this.loads = loads;
  }

  @Override
  public Optional<Problem> check(ModelVersion version) {
    RunnerId id = RunnerId.of(version);
    Optional<RunnerLoads.Load> load = loads.of(id).filter(RunnerLoads.Load::measured);
    if (load.isEmpty()) {
      return Optional.empty();
    }
    long wait = loads.expectedWaitMillis(id);
    long bound = load.get().maxWaitMillis();
    if (wait <= bound) {
      return Optional.empty();
    }
    long retryAfter = Math.max(1, (wait - bound + 999) / 1000);
    return Optional.of(
        new Problem(
                503,
                "capacity-exhausted",
                "Service unavailable",
                String.format(
                    "Jobs of %s would wait about %.0f s to start; the bound is %.0f s. Nothing was"
                        + " stored or billed; retry after the time in Retry-After.",
                    id, wait / 1e3, bound / 1e3))
            .with("expectedWaitSeconds", Math.round(wait / 100.0) / 10.0)
            .with("maxWaitSeconds", bound / 1e3)
            .withHeader(RawHeader.create("Retry-After", Long.toString(retryAfter))));
  }

  @Override
  public void admitted(ModelVersion version) {
    loads.submitted(RunnerId.of(version));
  }
}
