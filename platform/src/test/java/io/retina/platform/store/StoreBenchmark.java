package io.retina.platform.store;

import io.retina.platform.jobs.AdmissionLimits;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobRepository;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.jobs.NewJob;
import io.retina.platform.jobs.Submission;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one PostgreSQL sustains for the job path (docs/scaling.md): the store calls of a job's life
 * (submit with its concurrency check, claim returning the input, commit of result, state and ledger
 * row), tenant polls, and each alone, from several threads against the embedded server on this
 * machine. No HTTP, no cluster, no model: the store's own ceiling. Run by {@code bench/store.sh};
 * stops by itself.
 *
 * <p>System properties: {@code bench.phaseMillis} (default 15000), {@code bench.threads} (8),
 * {@code bench.inputBytes} (20000), {@code bench.outputBytes} (60000).
 */
public final class StoreBenchmark {
  private StoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    long phase = Long.getLong("bench.phaseMillis", 15_000);
    int threads = Integer.getInteger("bench.threads", 8);
    int inputBytes = Integer.getInteger("bench.inputBytes", 20_000);
    int outputBytes = Integer.getInteger("bench.outputBytes", 60_000);
    byte[] input = new byte[inputBytes];
    byte[] output = new byte[outputBytes];
    new Random(1).nextBytes(input);
    new Random(2).nextBytes(output);
    List<String> rows = new ArrayList<>();
    try (Database db =
        Database.openExternal(
            TestDatabases.freshUrl(), TestDatabases.USER, TestDatabases.PASSWORD, threads + 2)) {
      new ModelRepository(db.tx()).register(TestModels.echo(1), "benchmark model");
      JobSubmissions submissions = new JobSubmissions(db.tx());
      JobLeases leases = new JobLeases(db.tx());
      JobRepository jobs = new JobRepository(db.tx());
      TenantRepository tenants = new TenantRepository(db.tx());
      List<Tenant> many = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        many.add(tenants.create("bench-" + UUID.randomUUID().toString().substring(0, 8)));
      }
      AdmissionLimits limits = new AdmissionLimits(1_000_000, Long.MAX_VALUE);
      ConcurrentLinkedQueue<UUID[]> done = new ConcurrentLinkedQueue<>();

      Op lifecycle =
          (n) -> {
            Tenant t = many.get((int) (n % many.size()));
            UUID id = submit(submissions, t, input, limits);
            var claim = leases.claim(id, "bench", Duration.ofMinutes(1)).orElseThrow();
            leases.succeed(claim, "image/png", output, ContentDigest.sha256(output), 1000);
            done.add(new UUID[] {t.id(), id});
          };
      rows.add(row("job's life: submit, claim, commit", run(lifecycle, threads, phase), threads));

      List<UUID[]> finished = new ArrayList<>(done);
      Op poll =
          (n) -> {
            UUID[] job = finished.get((int) (n % finished.size()));
            jobs.find(job[0], job[1]).orElseThrow();
          };
      rows.add(row("poll: GET /v1/jobs/{id}'s read", run(poll, threads, phase), threads));

      Op submitOnly = (n) -> submit(submissions, many.get((int) (n % many.size())), input, limits);
      rows.add(
          row(
              "submit alone (with its concurrency check)",
              run(submitOnly, threads, phase),
              threads));

      System.out.println();
      System.out.println("| store calls | threads | per second | mean ms |");
      System.out.println("|---|---|---|---|");
      rows.forEach(System.out::println);
      System.out.printf(
          "%njobs stored in all: %d; input %d B, output %d B each%n",
          done.size(), inputBytes, outputBytes);
    }
    System.exit(0);
  }

  interface Op {
    void run(long n) throws Exception;
  }

  record Rate(double perSecond, double meanMillis) {}

  static UUID submit(JobSubmissions submissions, Tenant t, byte[] input, AdmissionLimits limits) {
    NewJob job =
        new NewJob(
            t.id(),
            "echo",
            1,
            Map.of("scale", "2"),
            "image/png",
            128,
            128,
            ContentDigest.sha256(input),
            input,
            3,
            null);
    return ((Submission.Created) submissions.submit(job, limits, null, null, Duration.ZERO))
        .job()
        .id();
  }

  /**
   * Runs {@code op} from {@code threads} threads for a second to warm up, then for {@code millis}.
   */
  static Rate run(Op op, int threads, long millis) throws Exception {
    measure(op, threads, 1_000);
    return measure(op, threads, millis);
  }

  static Rate measure(Op op, int threads, long millis) throws Exception {
    AtomicLong count = new AtomicLong();
    AtomicLong nanos = new AtomicLong();
    long end = System.nanoTime() + millis * 1_000_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> running = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < threads; i++) {
      running.add(
          pool.submit(
              () -> {
                while (System.nanoTime() < end) {
                  long n = count.getAndIncrement();
                  long t0 = System.nanoTime();
                  op.run(n);
                  nanos.addAndGet(System.nanoTime() - t0);
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Rate(count.get() / seconds, nanos.get() / 1e6 / count.get());
  }

  static String row(String what, Rate r, int threads) {
    return String.format("| %s | %d | %.0f | %.1f |", what, threads, r.perSecond(), r.meanMillis());
  }
}
