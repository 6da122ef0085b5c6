package io.retina.platform.jobs;

import java.util.List;

/** One page of jobs and the cursor of the next page, null on the last. */
public record JobPage(List<Job> jobs, JobCursor next) {}
