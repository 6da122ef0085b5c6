package io.retina.platform.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster's members as one node sees them now: their addresses, roles, status and whether this
 * node can reach them, the leader, and the node itself. Addresses are written as the nodes write
 * their own name in the store ({@code pekko://retina@host:port}). Immutable.
 *
 * @param leader the leader's address; null while there is none
 */
public record Membership(String self, String leader, List<Node> members) {
  /**
   * One member. {@code status} is Pekko's member status in lower-case words ({@code joining},
   * {@code up}, {@code leaving}, {@code exiting}, {@code down}, {@code removed}, ...).
   */
  public record Node(String address, List<String> roles, String status, boolean reachable) {}

  /** What {@code system}'s node sees of the cluster now. Cheap; does not block. */
  public static Membership of(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    Set<Member> unreachable = state.getUnreachable();
    List<Member> all = new ArrayList<>();
    StreamSupport.stream(state.getMembers().spliterator(), false).forEach(all::add);
    // an unreachable member is still a member, but be sure it is listed
    unreachable.stream().filter(m -> !all.contains(m)).forEach(all::add);
    List<Node> nodes =
        all.stream()
            .map(
                m ->
                    new Node(
                        m.address().toString(),
                        m.getRoles().stream()
                            .filter(r -> !r.startsWith("dc-")) // Pekko's data-center role
                            .sorted()
                            .toList(),
                        status(m),
                        !unreachable.contains(m)))
            .sorted(Comparator.comparing(Node::address))
            .toList();
    return new Membership(
        cluster.selfMember().address().toString(),
        state.getLeader() == null ? null : state.getLeader().toString(),
        nodes);
  }

  /** Pekko's {@code WeaklyUp} as {@code weakly-up}, {@code Up} as {@code up}. */
  private static String status(Member m) {
    return m.status().toString().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase();
  }
}
