package io.retina.api;

import io.retina.api.auth.Authenticator;
import io.retina.api.jobs.Capacity;
import io.retina.api.jobs.JobWaiters;
import io.retina.api.quota.TenantGates;
import io.retina.platform.audit.AuditRepository;
import io.retina.platform.billing.UsageRepository;
import io.retina.platform.cluster.Membership;
import io.retina.platform.cluster.RunnerClient;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import io.retina.platform.cluster.WorkerNodes;
import io.retina.platform.jobs.JobAdminQueries;
import io.retina.platform.jobs.JobRepository;
import io.retina.platform.jobs.JobRetention;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.metrics.NodeMetrics;
import io.retina.platform.models.ArtifactInspector;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.overview.PlatformOverview;
import io.retina.platform.tenants.QuotaRepository;
import io.retina.platform.tenants.TenantRepository;
import io.retina.platform.tracing.Tracing;
import io.retina.platform.training.TrainingRepository;
import io.retina.platform.webhooks.WebhookSettings;
import io.retina.platform.webhooks.WebhookStore;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the API routes need from the node: the store, the way to tell workers about a job, the way
 * to wait for one, metrics, readiness, the cluster's membership, and the blocking executor for
 * store calls. Immutable.
 *
 * @param capacity whether a model version can take another job now; asked last in admission
 * @param inspector what refuses an uploaded model whose graph may not run (an op named)
 * @param readiness the reasons this node is not ready; empty when ready
 * @param workerNodes what each worker node last said about itself
 * @param membership the cluster's members as this node sees them now; cheap, does not block
 * @param webhooks tenants' webhook endpoints, secrets and deliveries
 * @param webhookSettings which webhook URLs this node allows, and rotation's default grace
 * @param retention how long tenants' images are kept, and their deletion
 * @param trainings tenants' trainings and their datasets
 * @param overview the figures of the console's overview
 * @param tracing this node's tracer; {@link Tracing#OFF} when traces are not exported
 */
public record ApiContext(
    ApiSettings settings,
    Authenticator auth,
    TenantRepository tenants,
    QuotaRepository quotas,
    UsageRepository usage,
    AuditRepository audit,
    TenantGates gates,
    JobRepository jobs,
    JobSubmissions submissions,
    JobAdminQueries jobAdmin,
    ModelRepository models,
    ArtifactInspector inspector,
    Capacity capacity,
    RunnerClient runners,
    RunnerLoads.View runnerLoads,
    ScalingStore scaling,
    Scaling defaultScaling,
    JobWaiters waiters,
    NodeMetrics metrics,
    Supplier<List<String>> readiness,
    WorkerNodes workerNodes,
    Supplier<Membership> membership,
    WebhookStore webhooks,
    WebhookSettings webhookSettings,
    JobRetention retention,
    TrainingRepository trainings,
    PlatformOverview overview,
    Executor store,
    Tracing tracing) {}
