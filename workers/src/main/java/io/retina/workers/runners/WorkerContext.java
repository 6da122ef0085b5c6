package io.retina.workers.runners;

import io.retina.platform.cluster.JobEvents;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.models.ModelRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * What a worker node's runners share: the job leases and the model store, where the model cache is,
 * the blocking executor that runs TensorFlow and JDBC, and the lease terms. Immutable.
 */
public record WorkerContext(
    JobLeases leases,
    ModelRepository models,
    Path modelCache,
    Duration lease,
    int parallelism,
    boolean batching,
    Executor blocking,
    String nodeName,
    ActorRef<Topic.Command<JobEvents.JobFinished>> jobEvents,
    ActorRef<Residency.Command> residency,
    WorkerMetrics metrics) {}
