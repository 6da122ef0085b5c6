package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import io.retina.platform.cluster.Membership;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.WorkerNodes;
import io.retina.platform.models.ModelLoads;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The worker cluster under {@code GET /admin/workers}: every member as this node sees it now
 * (roles, status, reachability, the leader), with what each worker node last said about itself
 * (device, the versions it holds in memory, when) and how it last loaded each version; nodes that
 * left but are still in the store, as history; and the latest load failures with their reason. Each
 * version's replicas and queue come from its runner's last load report, and the scaling decisions
 * from the store. No runner is asked anything, since asking would start it.
 */
final class WorkerAdminRoutes extends AdminDirectives {
  /** Nodes that left, newest first: enough to see the last deployments. */
  static final int FORMER_NODES = 20;

  /** Load failures, newest first: enough to see a bad version across a cluster. */
  static final int RECENT_FAILURES = 20;

  /** Scaling decisions, newest first: a few minutes of a busy cluster. */
  static final int SCALING_EVENTS = 30;

  WorkerAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
    return path(
        "workers",
        () ->
            get(
                () ->
                    admin(
                        r -> {
                          Map<String, Object> view =
                              view(
                                  api.membership().get(),
                                  api.workerNodes().all(),
                                  api.models().loads().all(),
                                  Instant.now());
                          view.put("versions", versions(api.runnerLoads().all()));
                          view.put(
                              "scalingEvents",
                              api.scaling().recent(null, SCALING_EVENTS).stream()
                                  .map(ScalingAdminRoutes::event)
                                  .toList());
                          return Responses.ok(view);
                        })));
  }

  /** Each version's replicas and queue, as its runner last reported them. */
  static List<Map<String, Object>> versions(List<RunnerLoads.Load> loads) {
    return loads.stream()
        .sorted(Comparator.comparing(RunnerLoads.Load::runner))
        .map(
            l -> {
              Map<String, Object> v = new LinkedHashMap<>();
              v.put("version", l.runner());
              v.put("replicas", l.replicas());
              v.put("queued", l.queued());
              v.put("expectedWaitSeconds", l.expectedWaitMillis() / 1e3);
              v.put("maxWaitSeconds", l.maxWaitMillis() / 1e3);
              return v;
            })
        .toList();
  }

  static Map<String, Object> view(
      Membership cluster, List<WorkerNodes.Beat> beats, List<ModelLoads.Load> loads, Instant now) {
    Map<String, WorkerNodes.Beat> beatOf =
        beats.stream().collect(Collectors.toMap(WorkerNodes.Beat::node, Function.identity()));
    Map<String, List<ModelLoads.Load>> loadsOf =
        loads.stream().collect(Collectors.groupingBy(ModelLoads.Load::node));
    Set<String> members =
        cluster.members().stream().map(Membership.Node::address).collect(Collectors.toSet());

    List<Map<String, Object>> nodes =
        cluster.members().stream()
            .map(
                m -> {
                  Map<String, Object> n = new LinkedHashMap<>();
                  n.put("address", m.address());
                  n.put("member", true);
                  n.put("roles", m.roles());
                  n.put("status", m.status());
                  n.put("reachable", m.reachable());
                  n.put("leader", m.address().equals(cluster.leader()));
                  n.put("self", m.address().equals(cluster.self()));
                  facts(n, beatOf.get(m.address()), true, now);
                  n.put("loads", loads(loadsOf.getOrDefault(m.address(), List.of())));
                  return n;
                })
            .toList();

    List<Map<String, Object>> former =
        Stream.concat(beats.stream().map(WorkerNodes.Beat::node), loadsOf.keySet().stream())
            .filter(node -> !members.contains(node))
            .distinct()
            .sorted(
                Comparator.comparing(
                        (String node) ->
                            lastSeen(beatOf.get(node), loadsOf.getOrDefault(node, List.of())))
                    .reversed())
            .limit(FORMER_NODES)
            .map(
                node -> {
                  WorkerNodes.Beat beat = beatOf.get(node);
                  Map<String, Object> n = new LinkedHashMap<>();
                  n.put("address", node);
                  n.put("member", false);
                  n.put("roles", beat == null ? List.of() : beat.roles());
                  n.put("status", "gone");
                  n.put("reachable", false);
                  n.put("leader", false);
                  n.put("self", false);
                  facts(n, beat, false, now);
                  n.put("loads", loads(loadsOf.getOrDefault(node, List.of())));
                  return n;
                })
            .toList();

    List<Map<String, Object>> failures =
        loads.stream()
            .filter(l -> !l.loaded())
            .sorted(Comparator.comparing(ModelLoads.Load::at).reversed())
            .limit(RECENT_FAILURES)
            .map(
                l -> {
                  Map<String, Object> f = new LinkedHashMap<>();
                  f.put("node", l.node());
                  f.put("member", members.contains(l.node()));
                  f.put("version", l.modelName() + "@" + l.version());
                  f.put("detail", l.detail());
                  f.put("at", l.at().toString());
                  return f;
                })
            .toList();

    Map<String, Object> view = new LinkedHashMap<>();
    view.put("self", cluster.self());
    view.put("leader", cluster.leader());
    view.put("at", now.toString());
    view.put("nodes", nodes);
    view.put("formerNodes", former);
    view.put("recentFailures", failures);
    return view;
  }

  /**
   * What the node last said about itself; nothing for a node without the worker role or one that
   * has not beaten yet. A node that left holds nothing, whatever its last beat said.
   */
  private static void facts(
      Map<String, Object> n, WorkerNodes.Beat beat, boolean member, Instant now) {
    if (beat == null) {
      n.put("device", null);
      n.put("memoryBudgetBytes", null);
      n.put("resident", List.of());
      n.put("residentBytes", 0L);
      n.put("heartbeat", null);
      return;
    }
    n.put("device", Map.of("kind", beat.device(), "description", beat.deviceDescription()));
    n.put("memoryBudgetBytes", beat.memoryBudgetBytes());
    List<WorkerNodes.Resident> resident = member ? beat.resident() : List.of();
    n.put(
        "resident",
        resident.stream()
            .map(r -> Map.of("version", r.version(), "bytes", r.bytes(), "pinned", r.pinned()))
            .toList());
    n.put("residentBytes", resident.stream().mapToLong(WorkerNodes.Resident::bytes).sum());
    Map<String, Object> heartbeat = new LinkedHashMap<>();
    heartbeat.put("at", beat.at().toString());
    heartbeat.put("everyMs", beat.every().toMillis());
    heartbeat.put("late", beat.late(now));
    n.put("heartbeat", heartbeat);
  }

  /** The node's last load of each version, by version. */
  private static List<Map<String, Object>> loads(List<ModelLoads.Load> loads) {
    return loads.stream()
        .sorted(
            Comparator.comparing(ModelLoads.Load::modelName)
                .thenComparingInt(ModelLoads.Load::version))
        .map(
            l -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("version", l.modelName() + "@" + l.version());
              m.put("outcome", l.loaded() ? "loaded" : "failed");
              m.put("detail", l.detail());
              m.put("at", l.at().toString());
              return m;
            })
        .toList();
  }

  private static Instant lastSeen(WorkerNodes.Beat beat, List<ModelLoads.Load> loads) {
    return Stream.concat(
            Stream.ofNullable(beat).map(WorkerNodes.Beat::at),
            loads.stream().map(ModelLoads.Load::at))
        .filter(Objects::nonNull)
        .max(Comparator.naturalOrder())
        .orElse(Instant.EPOCH);
  }
}
