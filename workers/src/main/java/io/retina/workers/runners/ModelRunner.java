package io.retina.workers.runners;

import io.retina.platform.cluster.LocalEntities;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.RunnerProtocol;
import io.retina.platform.cluster.RunnerProtocol.Command;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model version's runner: the sharded entity (id {@link RunnerId}) that keeps the version's one
 * fair queue across all its replicas. It hands each replica no more jobs than the replica can
 * start, places replicas on worker nodes and drains them as the {@link Autoscaler} decides, answers
 * queue positions from the replicas' measured service times, and publishes the version's expected
 * wait on {@link RunnerLoads} for admission. Its queue and replica set are hints rebuilt from the
 * replicas' reports and the sweeper's re-sends if its node dies: the store holds every job.
 */
public final class ModelRunner {
  private static final Logger log = LoggerFactory.getLogger(ModelRunner.class);

  /** A replica's states, as it reports them. */
  static final String LOADING = "loading";

  static final String READY = "ready";
  static final String FAILED = "failed";
  static final String DRAINING = "draining";

  /** Why a replica left when its node's residency keeper needed the memory. */
  static final String YIELDED_MEMORY = "unloaded to free memory for another version";

  /**
   * A replica's state: what it holds (running or waiting to start), the jobs it has received so
   * far, what it can hold in all, its measured time per job (-1 before its first), and its model's
   * size. {@code sequence} numbers the replica's reports: they come by two ways (straight after a
   * batch, through sharding every second) and so not always in order, and an older one than the
   * last is stale. A replica numbers from 1; 0 is a report of a build before the numbering.
   */
  public record ReplicaReport(
      ActorRef<Replica.Command> replica,
      long sequence,
      String node,
      String state,
      int capacity,
      long received,
      List<UUID> holding,
      long millisPerJob,
      long bytes,
      String loadError)
      implements Command {}

  /** A replica hands back jobs it will not start (it drains). */
  public record JobsReturned(ActorRef<Replica.Command> replica, List<UUID> jobIds)
      implements Command {}

  /** A replica stopped, having finished all it started. */
  public record ReplicaLeft(ActorRef<Replica.Command> replica, String node, String reason)
      implements Command {}

  private record SettingsLoaded(Scaling scaling) implements Command {}

  private record HostsChanged(Set<ActorRef<ReplicaHost.Command>> hosts) implements Command {}

  private record Offered(long round, ReplicaHost.Offer offer) implements Command {}

  private record OffersClosed(long round, String reason) implements Command {}

  private record PlacementAnswered(ReplicaHost.Placed placed) implements Command {}

  private record ReplicaTerminated(ActorRef<Replica.Command> replica) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum Stop implements Command {
    INSTANCE
  }

  /** A job waiting in the queue or handed to a replica: its lane in the fair order. */
  private record Ticket(UUID tenantId, int weight) {}

  /** What the runner knows of one replica. */
  private static final class ReplicaView {
    final ActorRef<Replica.Command> ref;
    final String node;
    String state = LOADING;
    int capacity;
    long received;

    /** Sent jobs by sequence number: those past {@code received} are still in transit. */
    final LinkedHashMap<UUID, Long> sent = new LinkedHashMap<>();

    long sentCount;
    long lastReport = -1;
    Set<UUID> holding = new HashSet<>();
    long millisPerJob = -1;
    long bytes;
    long idleSince;
    boolean draining;

    ReplicaView(ActorRef<Replica.Command> ref, String node, long now) {
      this.ref = ref;
      this.node = node;
      this.idleSince = now;
    }

    /** Jobs the replica holds or that are on their way to it. */
    Set<UUID> jobs() {
      Set<UUID> all = new HashSet<>(holding);
      all.addAll(sent.keySet());
      return all;
    }

    /**
     * How many jobs the replica holds or has on their way: the two never overlap, since a sent job
     * leaves {@code sent} once the replica reports having received it.
     */
    int load() {
      return holding.size() + sent.size();
    }

    int credit() {
      return draining ? 0 : capacity - load();
    }

    boolean serving() {
      return !draining && !state.equals(DRAINING);
    }
  }

  /** How long a placement waits for hosts to make offers, at most: it closes when all have. */
  private static final Duration OFFER_WINDOW = Duration.ofMillis(300);

  /** How long a placed replica may take to report before it is assumed lost. */
  private static final Duration PLACEMENT_TIMEOUT = Duration.ofMinutes(2);

  /** How long no worker node may be up, as a cluster forms, before a placement says so. */
  private static final Duration NO_HOSTS_GRACE = Duration.ofSeconds(5);

  /** How often a runner re-reads its settings, besides when told they changed. */
  private static final Duration SETTINGS_EVERY = Duration.ofSeconds(15);

  /** Starts the runners' sharding on a worker node. */
  public static void init(ActorSystem<?> system, WorkerContext worker) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    RunnerProtocol.ENTITY_KEY,
                    ctx -> create(RunnerId.parse(ctx.getEntityId()), worker))
                .withRole(RunnerProtocol.WORKER_ROLE)
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(RunnerId id, WorkerContext worker) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new ModelRunner(ctx, timers, id, worker).behavior()));
  }

  private final ActorContext<Command> ctx;
  private final RunnerId id;
  private final WorkerContext worker;
  private final Autoscaler<ActorRef<Replica.Command>> autoscaler;
  private final FairQueue queue = new FairQueue();
  private final Map<UUID, Ticket> tickets = new HashMap<>();
  private final Map<ActorRef<Replica.Command>, ReplicaView> replicas = new LinkedHashMap<>();

  /** Nodes asked to start a replica that has not reported yet, with when they were asked. */
  private final Map<String, Long> placing = new HashMap<>();

  private Set<ActorRef<ReplicaHost.Command>> hosts = Set.of();

  /** Whether the receptionist has told this runner which hosts are up, even none. */
  private boolean hostsHeard;

  /** When the hosts were first heard, or last became none. */
  private long noHostsSince;

  private Scaling scaling;
  private long lastSettingsRead;
  private long offerRound;
  private final List<ReplicaHost.Offer> offers = new ArrayList<>();
  private String pendingReason;
  private long lastNoRoomLog;

  /**
   * A replica left to free memory for another version: the minimum is not restored until a job
   * comes, or two versions would take turns evicting each other.
   */
  private boolean yieldedMemory;

  /**
   * Whether the version is wanted here: it had a job, was prepared, or has replicas. A runner woken
   * only by a settings change places nothing, so editing a staged version's settings loads nothing.
   */
  private boolean wanted;

  /** Whether the version's own settings were read (or could not be, and the defaults stand). */
  private boolean settingsRead;

  /** The last measured time per job of any replica: the estimate for a replica not yet measured. */
  private long knownMillisPerJob = 1000;

  private boolean measured;

  private final WorkerMetrics.RunnerGauges gauges;

  private ModelRunner(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      RunnerId id,
      WorkerContext worker) {
    this.ctx = ctx;
    this.id = id;
    this.worker = worker;
    this.autoscaler = new Autoscaler<>(worker.autoscaling());
    this.scaling = worker.defaultScaling();
    this.gauges = worker.metrics().runner(id.toString());
    timers.startTimerWithFixedDelay(Tick.INSTANCE, Replica.REPORT_EVERY);
    ActorRef<Receptionist.Listing> listings =
        ctx.messageAdapter(
            Receptionist.Listing.class,
            l -> new HostsChanged(Set.copyOf(l.getServiceInstances(ReplicaHost.KEY))));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(ReplicaHost.KEY, listings));
    LocalEntities.get(ctx.getSystem())
        .started(RunnerProtocol.ENTITY_KEY, id.toString(), ctx.getSelf());
    readSettings();
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(RunnerProtocol.JobSubmitted.class, this::onJobSubmitted)
        .onMessage(RunnerProtocol.Prepare.class, this::onPrepare)
        .onMessage(RunnerProtocol.SettingsChanged.class, m -> onSettingsChanged())
        .onMessage(RunnerProtocol.GetQueuePosition.class, this::onGetQueuePosition)
        .onMessage(ReplicaReport.class, this::onReplicaReport)
        .onMessage(JobsReturned.class, this::onJobsReturned)
        .onMessage(ReplicaLeft.class, this::onReplicaLeft)
        .onMessage(ReplicaTerminated.class, this::onReplicaTerminated)
        .onMessage(SettingsLoaded.class, this::onSettingsLoaded)
        .onMessage(HostsChanged.class, this::onHostsChanged)
        .onMessage(Offered.class, this::onOffered)
        .onMessage(OffersClosed.class, this::onOffersClosed)
        .onMessage(PlacementAnswered.class, this::onPlacementAnswered)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onSignal(Terminated.class, t -> Behaviors.same())
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onPostStop() {
    LocalEntities.get(ctx.getSystem())
        .stopped(RunnerProtocol.ENTITY_KEY, id.toString(), ctx.getSelf());
    gauges.close();
    return Behaviors.same();
  }

  // ---- jobs ----

  private Behavior<Command> onJobSubmitted(RunnerProtocol.JobSubmitted m) {
    if (tickets.containsKey(m.jobId())) {
      return Behaviors.same(); // queued or handed out already: a repeated hint
    }
    tickets.put(m.jobId(), new Ticket(m.tenantId(), m.weight()));
    yieldedMemory = false;
    wanted = true;
    queue.add(m.jobId(), m.tenantId(), m.weight());
    dispatch();
    if (replicas.isEmpty() && placing.isEmpty()) {
      scale();
    }
    return Behaviors.same();
  }

  /** Hands queued jobs, in fair order, to the replicas that have room. */
  private void dispatch() {
    while (!queue.isEmpty()) {
      ReplicaView target = roomiest();
      if (target == null) {
        return;
      }
      List<UUID> work = new ArrayList<>();
      int room = target.credit();
      while (work.size() < room && !queue.isEmpty()) {
        UUID job = queue.poll().orElseThrow();
        work.add(job);
        target.sent.put(job, ++target.sentCount);
      }
      target.idleSince = Long.MAX_VALUE;
      target.ref.tell(new Replica.Work(work, ctx.getSelf()));
    }
  }

  /**
   * The ready replica with the most room; a failed one (which fails the jobs it takes, saying why)
   * only when no replica is ready or loading, so one node's failure does not fail jobs another node
   * could run.
   */
  private ReplicaView roomiest() {
    Comparator<ReplicaView> byCredit = Comparator.comparingInt(ReplicaView::credit);
    var ready =
        replicas.values().stream()
            .filter(r -> r.serving() && r.state.equals(READY) && r.credit() > 0)
            .max(byCredit);
    if (ready.isPresent()) {
      return ready.get();
    }
    boolean coming =
        !placing.isEmpty()
            || replicas.values().stream()
                .anyMatch(r -> r.serving() && (r.state.equals(READY) || r.state.equals(LOADING)));
    if (coming) {
      return null;
    }
    return replicas.values().stream()
        .filter(r -> r.serving() && r.state.equals(FAILED) && r.credit() > 0)
        .max(byCredit)
        .orElse(null);
  }

  private Behavior<Command> onGetQueuePosition(RunnerProtocol.GetQueuePosition m) {
    int position = queue.position(m.jobId()).orElse(-1);
    long estimate = position < 0 ? 0 : Math.round(waitMillis(position));
    m.replyTo().tell(new RunnerProtocol.QueuePosition(position, estimate));
    return Behaviors.same();
  }

  /**
   * The expected wait of a job with {@code ahead} jobs before it: the replicas' combined throughput
   * clears them; with no replica ready, the first one's load comes first (counted as one job).
   */
  private double waitMillis(int ahead) {
    double perSecond = 0;
    int ready = 0;
    int free = 0;
    for (ReplicaView r : replicas.values()) {
      if (r.serving() && !r.state.equals(FAILED)) {
        perSecond += 1000.0 / (r.millisPerJob > 0 ? r.millisPerJob : knownMillisPerJob);
        ready += r.state.equals(READY) ? 1 : 0;
        free += r.state.equals(READY) ? Math.max(0, r.credit()) : 0;
      }
    }
    if (perSecond == 0) {
      perSecond = 1000.0 / knownMillisPerJob;
    }
    double wait = ahead * 1000.0 / perSecond;
    if (ready == 0) {
      wait += knownMillisPerJob;
    } else if (free == 0) {
      wait += 500.0 / perSecond; // the running jobs are on average half done
    }
    return wait;
  }

  // ---- replicas ----

  private Behavior<Command> onReplicaReport(ReplicaReport m) {
    ReplicaView r = replicas.get(m.replica());
    // 0: a replica of a build before the numbering (a rolling update), whose reports come one way
    if (r != null && m.sequence() > 0 && m.sequence() <= r.lastReport) {
      return Behaviors.same(); // overtaken by a later report
    }
    wanted = true;
    if (r == null) {
      r = new ReplicaView(m.replica(), m.node(), System.currentTimeMillis());
      // a replica may have served an earlier runner of this version: number on from what it has
      r.sentCount = m.received();
      replicas.put(m.replica(), r);
      ctx.watchWith(m.replica(), new ReplicaTerminated(m.replica()));
      placing.remove(m.node());
      log.info("{}: replica on {} is {}", id, m.node(), m.state());
    } else if (!r.state.equals(m.state())) {
      log.info("{}: replica on {} is {}", id, m.node(), m.state());
    }
    Set<UUID> before = r.jobs();
    r.lastReport = m.sequence();
    r.state = m.state();
    r.capacity = m.capacity();
    r.received = m.received();
    r.sent.values().removeIf(seq -> seq <= m.received());
    r.holding = new HashSet<>(m.holding());
    r.bytes = m.bytes();
    if (m.millisPerJob() > 0) {
      r.millisPerJob = m.millisPerJob();
      knownMillisPerJob = m.millisPerJob();
      measured = true;
    }
    Set<UUID> now = r.jobs();
    before.removeAll(now);
    before.forEach(tickets::remove); // ended, one way or another
    if (now.isEmpty() && r.idleSince == Long.MAX_VALUE) {
      r.idleSince = System.currentTimeMillis();
    }
    dispatch();
    return Behaviors.same();
  }

  private Behavior<Command> onJobsReturned(JobsReturned m) {
    ReplicaView r = replicas.get(m.replica());
    for (UUID job : m.jobIds()) {
      if (r != null) {
        r.holding.remove(job);
        r.sent.remove(job);
      }
      requeue(job);
    }
    dispatch();
    return Behaviors.same();
  }

  private void requeue(UUID job) {
    Ticket t = tickets.get(job);
    if (t != null) {
      queue.add(job, t.tenantId(), t.weight());
    }
  }

  private Behavior<Command> onReplicaLeft(ReplicaLeft m) {
    ReplicaView r = replicas.remove(m.replica());
    if (r != null) {
      ctx.unwatch(m.replica());
      int before = replicas.size() + 1;
      boolean asked = r.draining;
      if (YIELDED_MEMORY.equals(m.reason())) {
        yieldedMemory = true;
      }
      orphan(r);
      if (!asked) {
        event("lost", before, replicas.size(), m.node(), m.reason());
      }
      log.info("{}: replica on {} left: {}", id, m.node(), m.reason());
      dispatch();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onReplicaTerminated(ReplicaTerminated m) {
    ReplicaView r = replicas.remove(m.replica());
    if (r != null) {
      int before = replicas.size() + 1;
      orphan(r);
      // a drained replica may stop before its goodbye arrives: that end was asked for, not a loss
      if (!r.draining) {
        event(
            "lost",
            before,
            replicas.size(),
            r.node,
            "the replica stopped or its node left the cluster");
        log.warn("{}: replica on {} is gone; its unstarted jobs go back in the queue", id, r.node);
      }
      dispatch();
    }
    return Behaviors.same();
  }

  /**
   * Puts back in the queue what a departed replica held. A job it had claimed stays claimed until
   * its lease expires (the claim then fails here and the sweeper re-sends it).
   */
  private void orphan(ReplicaView r) {
    r.jobs().forEach(this::requeue);
  }

  // ---- scaling ----

  private Behavior<Command> onPrepare(RunnerProtocol.Prepare m) {
    log.info("{}: prepare ({})", id, m.why());
    wanted = true;
    scale();
    return Behaviors.same();
  }

  private Behavior<Command> onTick() {
    long now = System.currentTimeMillis();
    placing.values().removeIf(since -> now - since > PLACEMENT_TIMEOUT.toMillis());
    if (now - lastSettingsRead > SETTINGS_EVERY.toMillis()) {
      readSettings();
    }
    scale();
    publishLoad();
    return Behaviors.same();
  }

  private void scale() {
    if (!wanted && replicas.isEmpty() && placing.isEmpty()) {
      return;
    }
    if (!settingsRead && queue.isEmpty()) {
      return; // the minimum comes from the version's own settings, soon read
    }
    long now = System.currentTimeMillis();
    int serving = 0;
    List<Autoscaler.Idle<ActorRef<Replica.Command>>> idle = new ArrayList<>();
    for (ReplicaView r : replicas.values()) {
      if (r.serving()) {
        serving++;
        if (!r.state.equals(LOADING) && r.load() == 0 && r.idleSince != Long.MAX_VALUE) {
          idle.add(new Autoscaler.Idle<>(r.ref, r.idleSince));
        }
      }
    }
    int loading =
        (int)
            replicas.values().stream().filter(r -> r.serving() && r.state.equals(LOADING)).count();
    var decision =
        autoscaler.decide(
            new Autoscaler.Observation<>(
                now,
                scaling,
                serving + placing.size(),
                loading + placing.size() + (pendingReason != null ? 1 : 0),
                queue.size(),
                Math.round(waitMillis(queue.size())),
                idle,
                yieldedMemory));
    if (decision instanceof Autoscaler.Up<?> up) {
      place(up.reason());
    } else if (decision instanceof Autoscaler.Down<ActorRef<Replica.Command>> down) {
      ReplicaView r = replicas.get(down.replica());
      r.draining = true;
      log.info("{}: draining the replica on {}: {}", id, r.node, down.reason());
      r.ref.tell(new Replica.Drain(down.reason()));
      worker.metrics().scaled(id.toString(), "down");
      event("down", serving + placing.size(), serving + placing.size() - 1, r.node, down.reason());
    }
  }

  /** Asks every host for an offer; the best one within the window gets the replica. */
  private void place(String reason) {
    if (pendingReason != null) {
      return;
    }
    if (hosts.isEmpty()) {
      // before the first listing, or for a moment as a cluster forms (a node's own host registers
      // just after its runners start), a host coming up places it (onHostsChanged)
      if (hostsHeard && System.currentTimeMillis() - noHostsSince > NO_HOSTS_GRACE.toMillis()) {
        noRoom("no worker node is up");
      }
      return;
    }
    pendingReason = reason;
    offers.clear();
    long round = ++offerRound;
    ActorRef<ReplicaHost.Offer> replies =
        ctx.messageAdapter(ReplicaHost.Offer.class, o -> new Offered(round, o));
    hosts.forEach(h -> h.tell(new ReplicaHost.Describe(id, replies)));
    ctx.scheduleOnce(OFFER_WINDOW, ctx.getSelf(), new OffersClosed(round, reason));
  }

  /** Takes an offer; once every host known has answered, the window closes without its timer. */
  private Behavior<Command> onOffered(Offered m) {
    if (m.round() == offerRound && pendingReason != null) {
      offers.add(m.offer());
      if (offers.size() >= hosts.size()) {
        return onOffersClosed(new OffersClosed(m.round(), pendingReason));
      }
    }
    return Behaviors.same();
  }

  /**
   * Chooses among the offers: a node without a replica of this version, with the device the version
   * needs and room for its model, the most free memory first, then the fewest replicas.
   */
  private Behavior<Command> onOffersClosed(OffersClosed m) {
    if (m.round() != offerRound || pendingReason == null) {
      return Behaviors.same();
    }
    pendingReason = null;
    Set<String> taken = new HashSet<>(placing.keySet());
    replicas.values().forEach(r -> taken.add(r.node));
    long needs = replicas.values().stream().mapToLong(r -> r.bytes).max().orElse(0);
    // a node whose free model memory fits the version first (elsewhere the node's residency keeper
    // must unload an idle version to make room), then the most free memory, then the fewest
    // replicas
    var best =
        offers.stream()
            .filter(o -> !o.holdsVersion() && !taken.contains(o.node()))
            .filter(o -> scaling.device().equals("any") || o.device().equals(scaling.device()))
            .max(
                Comparator.comparing((ReplicaHost.Offer o) -> o.freeBytes() >= needs)
                    .thenComparingLong(ReplicaHost.Offer::freeBytes)
                    .thenComparing(
                        Comparator.comparingInt(ReplicaHost.Offer::replicas).reversed()));
    if (best.isEmpty()) {
      noRoom(
          offers.isEmpty()
              ? "no worker node answered"
              : "every worker node that answered already runs one or lacks the device ("
                  + scaling.device()
                  + ")");
      return Behaviors.same();
    }
    ReplicaHost.Offer o = best.get();
    placing.put(o.node(), System.currentTimeMillis());
    int before = (int) replicas.values().stream().filter(ReplicaView::serving).count();
    worker.metrics().scaled(id.toString(), "up");
    event("up", before, before + placing.size(), o.node(), m.reason());
    log.info("{}: placing a replica on {}: {}", id, o.node(), m.reason());
    ctx.ask(
        ReplicaHost.Placed.class,
        o.host(),
        Duration.ofSeconds(5),
        replyTo -> new ReplicaHost.StartReplica(id, replyTo),
        (placed, error) ->
            new PlacementAnswered(
                placed != null
                    ? placed
                    : new ReplicaHost.Placed(id, o.node(), false, "the node did not answer")));
    return Behaviors.same();
  }

  private Behavior<Command> onPlacementAnswered(PlacementAnswered m) {
    if (!m.placed().started()) {
      placing.remove(m.placed().node());
      log.warn("{}: {} declined a replica: {}", id, m.placed().node(), m.placed().reason());
    }
    return Behaviors.same();
  }

  private void noRoom(String why) {
    long now = System.currentTimeMillis();
    if (now - lastNoRoomLog > 60_000) {
      lastNoRoomLog = now;
      log.warn("{}: cannot place another replica: {}", id, why);
    }
  }

  /**
   * The worker nodes now up. The first to come up is asked for a replica at once if jobs wait: a
   * runner started by its first job hears of the hosts only after that job's placement found none.
   */
  private Behavior<Command> onHostsChanged(HostsChanged m) {
    boolean none = hosts.isEmpty();
    if (!hostsHeard || (!none && m.hosts().isEmpty())) {
      noHostsSince = System.currentTimeMillis();
    }
    hosts = m.hosts();
    hostsHeard = true;
    if (none && !hosts.isEmpty()) {
      scale();
    }
    return Behaviors.same();
  }

  private void event(String direction, int from, int to, String node, String reason) {
    var e = new ScalingStore.Event(Instant.now(), id.toString(), direction, from, to, node, reason);
    CompletableFuture.runAsync(() -> worker.scaling().record(e), worker.blocking())
        .exceptionally(
            error -> {
              log.warn("could not record a scaling event of {}: {}", id, error.toString());
              return null;
            });
  }

  // ---- settings and load ----

  private void readSettings() {
    lastSettingsRead = System.currentTimeMillis();
    Scaling defaults = worker.defaultScaling();
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(
            () -> worker.scaling().overrides(id).orElse(Scaling.Overrides.NONE).over(defaults),
            worker.blocking()),
        (s, error) -> {
          if (error != null) {
            log.warn("could not read the replica settings of {}: {}", id, error.toString());
            return new SettingsLoaded(null);
          }
          return new SettingsLoaded(s);
        });
  }

  private Behavior<Command> onSettingsChanged() {
    readSettings();
    return Behaviors.same();
  }

  private Behavior<Command> onSettingsLoaded(SettingsLoaded m) {
    boolean first = !settingsRead;
    settingsRead = true;
    if (m.scaling() != null && !m.scaling().equals(scaling)) {
      log.info("{}: replica settings {}", id, m.scaling());
      scaling = m.scaling();
      enforceMaximum();
    }
    if (first) {
      scale(); // a prepared runner's minimum waited for these settings, not for the next tick
    }
    return Behaviors.same();
  }

  /** Drains the newest replicas past a lowered maximum. */
  private void enforceMaximum() {
    List<ReplicaView> serving = replicas.values().stream().filter(ReplicaView::serving).toList();
    for (int i = serving.size() - 1; i >= scaling.maxReplicas(); i--) {
      ReplicaView r = serving.get(i);
      r.draining = true;
      String why = "above the new maximum of " + scaling.maxReplicas();
      r.ref.tell(new Replica.Drain(why));
      event("down", i + 1, i, r.node, why);
    }
  }

  private void publishLoad() {
    int queued = queue.size();
    long serving = replicas.values().stream().filter(ReplicaView::serving).count();
    double perJob = waitMillis(1) - waitMillis(0);
    gauges.set((int) serving, queued);
    worker
        .loads()
        .tell(
            Topic.publish(
                new RunnerLoads.Load(
                    id.toString(),
                    Math.round(waitMillis(queued)),
                    Math.max(1, Math.round(perJob)),
                    scaling.maxWait().toMillis(),
                    measured,
                    (int) serving,
                    queued,
                    System.currentTimeMillis())));
  }
}
