package io.retina.platform.cluster;

import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The sharded entities living on this node, so that this node's own messages to one of them go
 * straight to it. Through sharding, a message passes the node's shard region and then the entity's
 * shard, two actors on Pekko's internal dispatcher, each a thread to wake; a job's submission
 * passes twice (its tenant's gate, its version's runner), and on a node that serves both, every one
 * of those hops stays on the node anyway.
 *
 * <p>An entity registers itself when it starts and unregisters when it stops; one found here is
 * alive or stopped a moment ago, so a message sent to it can be lost in that moment, as a message
 * through sharding can be lost when its entity's node dies. Only messages the entity's protocol
 * allows to be lost go this way (a runner's hints; a gate's question, asked again through sharding
 * when no answer comes). An entity on another node is not here, and is reached through sharding.
 * Thread-safe.
 */
public final class LocalEntities implements Extension {
  private static final ExtensionId<LocalEntities> ID =
      new ExtensionId<>() {
        @Override
        public LocalEntities createExtension(ActorSystem<?> system) {
          return new LocalEntities();
        }
      };

  private final ConcurrentHashMap<Key, ActorRef<?>> entities = new ConcurrentHashMap<>();

  private LocalEntities() {}

  /** The node's registry of its own entities. */
  public static LocalEntities get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private record Key(String type, String entityId) {}

  /** Records {@code ref} as the entity {@code entityId} of {@code type} on this node. */
  public <M> void started(EntityTypeKey<M> type, String entityId, ActorRef<M> ref) {
    entities.put(new Key(type.name(), entityId), ref);
  }

  /** Forgets the entity, if {@code ref} is still the one recorded (not a successor). */
  public <M> void stopped(EntityTypeKey<M> type, String entityId, ActorRef<M> ref) {
    entities.remove(new Key(type.name(), entityId), ref);
  }

  /** The entity, if it lives on this node; null if it lives elsewhere or not at all. */
  @SuppressWarnings("unchecked") // only started() puts, and with the type's own message class
  public <M> ActorRef<M> find(EntityTypeKey<M> type, String entityId) {
    return (ActorRef<M>) entities.get(new Key(type.name(), entityId));
  }
}
