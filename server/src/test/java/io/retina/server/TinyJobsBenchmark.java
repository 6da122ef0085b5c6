package io.retina.server;

import com.sun.tools.attach.VirtualMachine;
import io.retina.workers.models.ModelFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;

/**
 * The platform's own cost per job, with no model in the way (docs/benchmarks.md, "Tiny jobs"): one
 * node, by default in its own JVM from the packaged jar with its embedded PostgreSQL ({@link
 * Target}), {@code resize} of a 64x64 PNG to 32x32, 16 clients each submitting with {@code Prefer:
 * wait}, then reading the result, and doing it again. Jobs a second, latency percentiles of the
 * whole round (submit → succeeded → result read), and the CPU each job cost the node's JVM, its
 * PostgreSQL and the clients (and the node's JIT compiler threads alone), from {@code /proc}. Run
 * by {@code bench/tiny.sh}; 127.0.0.1 only, stops by itself.
 *
 * <p>System properties: {@code bench.phaseMillis} (default 20000), {@code bench.warmupMillis}
 * (40000), {@code bench.clients} (16), {@code bench.tenants} (1: the clients' tenants, client i
 * submits as tenant i mod n), {@code bench.asyncProfiler} (see {@link Profiler}), {@code
 * bench.parallelism} (the node's {@code retina.workers.parallelism}; its default if unset), {@code
 * bench.node} and {@code bench.testStore} (see {@link Target}), {@code bench.nodeJvm} (the node
 * JVM's options, space-separated, {@code -Xmx4g}), {@code bench.jar} (the node's jar, {@code
 * server/target/retina.jar}: another build's, to compare two).
 */
public final class TinyJobsBenchmark {
  private TinyJobsBenchmark() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    long phase = Long.getLong("bench.phaseMillis", 20_000);
    int clients = Integer.getInteger("bench.clients", 16);
    byte[] png = gradientPng(64, 64);
    try (Target node = Target.start()) {
      LocalClusterKeys keys = new LocalClusterKeys(new Http(node.base()));
      List<String> key = new ArrayList<>();
      for (int t = 0; t < Integer.getInteger("bench.tenants", 1); t++) {
        key.add(keys.unlimited());
      }
      // warm-up: loads the model, fills the pools; the JIT is still busy after 5 s of this
      run(node.base(), key, png, clients, Long.getLong("bench.warmupMillis", 40_000));
      Profiler profiler = Profiler.from(System.getProperty("bench.asyncProfiler"), node.pid());
      StoreStatements statements = StoreStatements.from(node);
      statements.reset();
      Cpu before = Cpu.now(node);
      profiler.start();
      Result r = run(node.base(), key, png, clients, phase);
      profiler.stop();
      statements.print(r.millis().size());
      statements.printWal(r.millis().size());
      Cpu spent = Cpu.now(node).minus(before);
      double jobs = r.millis().size();
      System.out.println();
      System.out.println(
          "| node | clients | jobs/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/job: node JVM"
              + " | of which JIT compiler threads (at least) | PostgreSQL | benchmark's clients |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
      System.out.printf(
          "| %s | %d | %.0f | %.1f | %.1f | %.1f | %d | %.2f | %.2f | %.2f | %s |%n",
          node.kind(),
          clients,
          r.perSecond(),
          r.p(50),
          r.p(95),
          r.p(99),
          r.errors(),
          spent.nodeMillis() / jobs,
          spent.compilerTotalMillis() / jobs,
          spent.postgresMillis() / jobs,
          node.pid() == ProcessHandle.current().pid()
              ? "(in the node's)"
              : String.format("%.2f", spent.benchmarkMillis() / jobs));
      System.out.printf(
          "node's context switches a job (threads alive at both ends): %.1f; steal: %.1f%% of the"
              + " machine's CPU time in the phase%n",
          spent.nodeSwitches() / jobs, 100 * spent.stealShare());
      // where a job's time went on the worker, from the node's own metrics (warm-up included)
      String metrics =
          new String(
              new Http(node.base()).send(new Http(node.base()).to("/metrics").GET()).body(),
              StandardCharsets.UTF_8);
      for (String stage : new String[] {"claim", "run", "commit"}) {
        String labels = "{model=\"resize@1\",stage=\"" + stage + "\"}";
        double sum = BenchSupport.metric(metrics, "retina_job_stage_seconds_sum" + labels);
        double count = BenchSupport.metric(metrics, "retina_job_stage_seconds_count" + labels);
        System.out.printf(
            "worker stage %s: mean %.1f ms over %.0f jobs%n", stage, 1e3 * sum / count, count);
      }
    }
    System.exit(0);
  }

  /**
   * The node under load: by default its own JVM, started as the README starts one (its embedded
   * PostgreSQL, every commit flushed), so that its CPU is read apart from the clients'; with {@code
   * bench.node=inline}, a {@link TestNode} in this JVM ({@code bench.testStore=true}: on the tests'
   * shared PostgreSQL, which the library starts without fsync or synchronous commit, as the figures
   * before 2026-12-01 were measured; its CPU is not counted).
   */
  record Target(String base, long pid, String kind, AutoCloseable node, Path data)
      implements AutoCloseable {
    /** The embedded PostgreSQL's data directory, whose processes are counted as PostgreSQL's. */
    Path storeDir() {
      return data.resolve("postgres");
    }

    @Override
    public void close() throws Exception {
      node.close();
      ModelFiles.deleteTree(data);
    }

    static Target start() throws Exception {
      Path data = Files.createTempDirectory("retina-tiny");
      if ("inline".equals(System.getProperty("bench.node", "process"))) {
        Map<String, Object> config = new HashMap<>();
        config.put("retina.node.data-dir", data.toString());
        if (System.getProperty("bench.parallelism") != null) {
          config.put("retina.workers.parallelism", Integer.getInteger("bench.parallelism"));
        }
        TestNode node = TestNode.start(BenchSupport.storeAsShipped(config));
        String kind =
            Boolean.getBoolean("bench.testStore")
                ? "inline, tests' store (its CPU not counted)"
                : "inline";
        return new Target(node.base, ProcessHandle.current().pid(), kind, node, data);
      }
      Map<String, String> env = new HashMap<>();
      env.put("RETINA_DATA_DIR", data.toString());
      env.put("RETINA_ADMIN_TOKEN", TestNode.ADMIN_TOKEN);
      env.put("RETINA_CLUSTER_PORT", Integer.toString(NodeProcess.freePort()));
      env.put("RETINA_DEMO_TENANT", "false");
      if (Boolean.getBoolean("bench.statements")) {
        env.put("RETINA_DB_STATEMENT_STATISTICS", "on");
      }
      if (System.getProperty("bench.parallelism") != null) {
        env.put("RETINA_PARALLELISM", System.getProperty("bench.parallelism"));
      }
      // the jar the README starts (bench/tiny.sh packages it first)
      Path jar = Path.of(System.getProperty("bench.jar", "server/target/retina.jar"));
      if (!Files.exists(jar)) {
        jar = Path.of("target", "retina.jar"); // run from server/
      }
      NodeProcess node =
          NodeProcess.start(
              env,
              NodeProcess.freePort(),
              List.of(System.getProperty("bench.nodeJvm", "-Xmx4g").trim().split("\\s+")),
              jar.toAbsolutePath().toString());
      node.awaitReady(Duration.ofSeconds(180));
      return new Target(node.base, node.process.pid(), "own JVM", node, data);
    }
  }

  /**
   * What the node's store did over the measured phase (a node in its own JVM only): how often it
   * wrote and flushed its WAL a job, from {@code pg_stat_wal}; and with {@code
   * bench.statements=true}, what it spent on each statement, from {@code pg_stat_statements}, which
   * the node loads when started with {@code RETINA_DB_STATEMENT_STATISTICS=on}. Read as the
   * embedded server's superuser, with the password the node keeps beside its data.
   */
  record StoreStatements(String url, String password, boolean statements) {
    static StoreStatements from(Target node) throws IOException {
      if (node.pid() == ProcessHandle.current().pid()) {
        return new StoreStatements(null, null, false);
      }
      // the fourth line of postmaster.pid is the server's port
      String port = Files.readAllLines(node.storeDir().resolve("postmaster.pid")).get(3).trim();
      return new StoreStatements(
          "jdbc:postgresql://127.0.0.1:" + port + "/postgres",
          Files.readString(io.retina.platform.store.Database.embeddedPasswordFile(node.storeDir()))
              .trim(),
          Boolean.getBoolean("bench.statements"));
    }

    void reset() throws java.sql.SQLException {
      if (url != null) {
        try (var c = java.sql.DriverManager.getConnection(url, "postgres", password);
            var st = c.createStatement()) {
          st.execute("select pg_stat_reset_shared('wal')");
          if (statements) {
            st.execute("create extension if not exists pg_stat_statements");
            st.execute("select pg_stat_statements_reset()");
          }
        }
      }
    }

    /** WAL writes and flushes a job since {@link #reset}. */
    void printWal(double jobs) throws java.sql.SQLException {
      if (url == null) {
        return;
      }
      try (var c = java.sql.DriverManager.getConnection(url, "postgres", password);
          var st = c.createStatement();
          var rs = st.executeQuery("select wal_write, wal_sync, wal_bytes from pg_stat_wal")) {
        rs.next();
        System.out.printf(
            "store WAL a job: %.2f writes, %.2f flushes, %.0f bytes%n",
            rs.getLong("wal_write") / jobs,
            rs.getLong("wal_sync") / jobs,
            rs.getDouble("wal_bytes") / jobs);
      }
    }

    /**
     * The statements run at least once every ten jobs, and any other taking 1% of the store's time
     * on statements (a periodic one), the costliest first.
     */
    void print(double jobs) throws java.sql.SQLException {
      if (!statements) {
        return;
      }
      System.out.println();
      System.out.println(
          "| statement | calls a job | ms a call | WAL bytes a call | full-page images a call"
              + " | buffers a call |");
      System.out.println("|---|---|---|---|---|---|");
      try (var c = java.sql.DriverManager.getConnection(url, "postgres", password);
          var st = c.createStatement();
          var rs =
              st.executeQuery(
                  "select calls, total_exec_time, wal_bytes, wal_fpi,"
                      + " shared_blks_hit + shared_blks_read as buffers,"
                      + " left(regexp_replace(query, '\\s+', ' ', 'g'), 60) as query,"
                      + " total_exec_time / sum(total_exec_time) over () as share"
                      + " from pg_stat_statements where calls > 0"
                      + " order by total_exec_time desc")) {
        while (rs.next()) {
          long calls = rs.getLong("calls");
          if (calls < jobs / 10 && rs.getDouble("share") < 0.01) {
            continue;
          }
          System.out.printf(
              "| `%s` | %.2f | %.3f | %.0f | %.2f | %.1f |%n",
              rs.getString("query").replace("|", "/"),
              calls / jobs,
              rs.getDouble("total_exec_time") / calls,
              rs.getDouble("wal_bytes") / calls,
              (double) rs.getLong("wal_fpi") / calls,
              (double) rs.getLong("buffers") / calls);
        }
      }
    }
  }

  /**
   * CPU time so far, in milliseconds, from {@code /proc}: the node's JVM, and of it each JIT
   * compiler thread (HotSpot's "C1 CompilerThread" and "C2 CompilerThread") by thread id; the
   * PostgreSQL processes serving its data directory (the postmaster and its children); and this
   * JVM.
   */
  record Cpu(
      double nodeMillis,
      Map<String, Double> compilerMillis,
      double postgresMillis,
      double benchmarkMillis,
      long nodeSwitches,
      double stealMillis,
      double machineMillis) {
    static Cpu now(Target node) throws IOException {
      double tick = 10; // USER_HZ is 100 on Linux
      double self = ticks(ProcessHandle.current().pid());
      double nodeTicks = ticks(node.pid());
      Map<String, Double> compilers = new HashMap<>();
      long switches = 0;
      Path tasks = Path.of("/proc", Long.toString(node.pid()), "task");
      if (Files.isDirectory(tasks)) {
        try (var threads = Files.list(tasks)) {
          for (Path t : threads.toList()) {
            try {
              switches += contextSwitches(t.resolve("status"));
              if (Files.readString(t.resolve("comm")).matches("C[12] CompilerThre(?s).*")) {
                compilers.put(t.getFileName().toString(), ticks(t.resolve("stat")) * tick);
              }
            } catch (IOException gone) {
              // the thread ended between the listing and the read
            }
          }
        }
      }
      double pg = 0;
      String dir = node.storeDir().toString();
      for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
        String cmd = p.info().commandLine().orElse("");
        if (cmd.contains("postgres") && cmd.contains(dir)) {
          pg += ticks(p.pid());
          for (ProcessHandle child : p.children().toList()) {
            pg += ticks(child.pid());
          }
        }
      }
      // the machine's own line of /proc/stat: user nice system idle iowait irq softirq steal
      String[] machine = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      double all = 0;
      for (int i = 1; i <= 8; i++) {
        all += Double.parseDouble(machine[i]);
      }
      return new Cpu(
          nodeTicks * tick,
          compilers,
          pg * tick,
          self * tick,
          switches,
          Double.parseDouble(machine[8]) * tick,
          all * tick);
    }

    /**
     * A thread's context switches, voluntary (it blocked: parked, waited on a socket) and not (its
     * time slice ran out, or a woken thread took its core). The voluntary ones count hand-offs,
     * which a busy host does not change as it changes CPU time.
     */
    private static long contextSwitches(Path status) throws IOException {
      long n = 0;
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("voluntary_ctxt_switches:")
            || line.startsWith("nonvoluntary_ctxt_switches:")) {
          n += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      return n;
    }

    /**
     * The share of the machine's CPU time the hypervisor gave to other guests while this one wanted
     * it (steal): a phase with much of it measured a slower machine.
     */
    double stealShare() {
      return machineMillis == 0 ? 0 : stealMillis / machineMillis;
    }

    /**
     * The node's compiler threads together: of a difference ({@link #minus}), a lower bound, since
     * HotSpot starts and ends compiler threads as its queue grows and shrinks, and one that ended
     * took its time with it.
     */
    double compilerTotalMillis() {
      return compilerMillis.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** What was spent since {@code o}; each compiler thread alive now, by what it spent since. */
    Cpu minus(Cpu o) {
      Map<String, Double> compilers = new HashMap<>();
      compilerMillis.forEach(
          (id, ms) -> compilers.put(id, ms - o.compilerMillis.getOrDefault(id, 0.0)));
      return new Cpu(
          nodeMillis - o.nodeMillis,
          compilers,
          postgresMillis - o.postgresMillis,
          benchmarkMillis - o.benchmarkMillis,
          nodeSwitches - o.nodeSwitches,
          stealMillis - o.stealMillis,
          machineMillis - o.machineMillis);
    }

    private static double ticks(long pid) throws IOException {
      return ticks(Path.of("/proc", Long.toString(pid), "stat"));
    }

    private static double ticks(Path stat) throws IOException {
      if (!Files.exists(stat)) {
        return 0;
      }
      String s = Files.readString(stat);
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return Double.parseDouble(f[11]) + Double.parseDouble(f[12]); // utime, stime
    }
  }

  record Result(double perSecond, List<Double> millis, int errors) {
    double p(int percent) {
      List<Double> sorted = new ArrayList<>(millis);
      Collections.sort(sorted);
      return sorted.isEmpty()
          ? 0
          : sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
    }
  }

  /** Runs {@code clients} clients for {@code millis}; client i submits as tenant i mod tenants. */
  static Result run(String base, List<String> keys, byte[] png, int clients, long millis)
      throws Exception {
    long end = System.nanoTime() + millis * 1_000_000;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<List<Double>>> running = new ArrayList<>();
    int[] errors = new int[1];
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      String key = keys.get(i % keys.size());
      running.add(
          pool.submit(
              () -> {
                Http http = new Http(base);
                List<Double> times = new ArrayList<>();
                while (System.nanoTime() < end) {
                  long t0 = System.nanoTime();
                  Http.Reply r =
                      http.submit(
                          "model=resize&width=32&height=32",
                          key,
                          "image/png",
                          png,
                          "Prefer",
                          "wait=10");
                  String failure = null;
                  if (r.status() != 200) {
                    failure = "submission answered " + r;
                  } else {
                    String id = r.json().get("id").asText();
                    Http.Reply result = http.get("/v1/jobs/" + id + "/result", key);
                    if (result.status() != 200) {
                      failure = "job " + id + "'s result answered " + result.status();
                    }
                  }
                  double ms = (System.nanoTime() - t0) / 1e6;
                  if (failure == null) {
                    times.add(ms);
                  } else {
                    synchronized (errors) {
                      if (errors[0]++ < 5) { // what a user would have seen, the first few
                        System.out.printf(
                            "error after %.0f ms: %s%n",
                            ms, failure.substring(0, Math.min(failure.length(), 600)));
                      }
                    }
                  }
                }
                return times;
              }));
    }
    List<Double> all = new ArrayList<>();
    for (Future<List<Double>> f : running) {
      all.addAll(f.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Result(all.size() / seconds, all, errors[0]);
  }

  /**
   * async-profiler's CPU sampling (or, with {@code bench.profileEvent=alloc}, allocation sampling)
   * of the node over the measured phase only, when {@code bench.asyncProfiler} names its jar
   * (Maven's {@code tools.profiler:async-profiler}, unpacked beside its native library), loaded
   * into the node's JVM through the JDK's attach API; the collapsed stacks go to {@code
   * bench.profileOut} (default {@code target/tiny-profile.collapsed}), one sample per millisecond
   * of CPU, per thread. A node in this JVM is profiled with this JVM's clients in the same file.
   */
  record Profiler(String library, long pid) {
    private static Object inThisJvm;

    static Profiler from(String library, long pid) {
      return new Profiler(library, pid);
    }

    void start() throws Exception {
      // bench.profileEvent=alloc samples the node's allocations instead: a sample per 256 kB
      boolean alloc = "alloc".equals(System.getProperty("bench.profileEvent", "cpu"));
      execute(
          alloc ? "start,event=alloc,alloc=256k,threads" : "start,event=cpu,interval=1ms,threads");
    }

    void stop() throws Exception {
      String out = System.getProperty("bench.profileOut", "target/tiny-profile.collapsed");
      execute("stop,collapsed,file=" + Path.of(out).toAbsolutePath());
    }

    private void execute(String command) throws Exception {
      if (library == null) {
        return;
      }
      Path jar = Path.of(library).toAbsolutePath();
      String lib = jar.resolveSibling("linux-x64/libasyncProfiler.so").toString();
      if (pid == ProcessHandle.current().pid()) {
        if (inThisJvm == null) {
          var loader = new URLClassLoader(new URL[] {jar.toUri().toURL()});
          Class<?> type = loader.loadClass("one.profiler.AsyncProfiler");
          inThisJvm = type.getMethod("getInstance", String.class).invoke(null, lib);
        }
        inThisJvm.getClass().getMethod("execute", String.class).invoke(inThisJvm, command);
        return;
      }
      var vm = VirtualMachine.attach(Long.toString(pid));
      try {
        vm.loadAgentPath(lib, command);
      } finally {
        vm.detach();
      }
    }
  }

  /** A tenant allowed to submit as fast as the benchmark does. */
  record LocalClusterKeys(Http http) {
    String unlimited() {
      Http.TenantKey t = http.newTenant(Http.uniqueName("tiny"));
      http.send(
          http.to("/admin/tenants/" + t.id() + "/quota")
              .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
              .header("Content-Type", "application/json")
              .PUT(
                  java.net.http.HttpRequest.BodyPublishers.ofString(
                      "{\"ratePerSecond\":100000,\"burst\":100000,\"maxConcurrentJobs\":100000}")));
      return t.key();
    }
  }

  /** A generated 64x64 gradient: no third-party image. */
  static byte[] gradientPng(int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
