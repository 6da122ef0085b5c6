-- Webhooks (Standard Webhooks): a job's own URL, given when it is submitted, and endpoints a tenant registers.
-- A job's change of state writes its webhook deliveries in the same transaction, by the trigger below, so no
-- code path that changes a job (claim, progress, success, failure, cancel, sweeper, deadline) can forget one,
-- and a delivery exists exactly when its change was committed. Any node sends them (webhook_deliveries is the
-- outbox) and records every attempt.

alter table jobs
    add column webhook_url    text check (length(webhook_url) <= 2048),
    add column webhook_events text[];

-- The secret that signs deliveries to jobs' own URLs, one per tenant; created when first needed. During a
-- rotation's grace period the previous secret signs too, so receivers can switch without losing a message.
create table webhook_signing_secrets (
    tenant_id             uuid primary key references tenants (id),
    secret                text not null,
    previous_secret       text,
    previous_valid_until  timestamptz,
    rotated_at            timestamptz not null default now()
);

create table webhook_endpoints (
    id                    uuid primary key,
    tenant_id             uuid not null references tenants (id),
    url                   text not null check (length(url) <= 2048),
    events                text[] not null,
    description           text not null default '' check (length(description) <= 256),
    secret                text not null,
    previous_secret       text,
    previous_valid_until  timestamptz,
    enabled               boolean not null default true,
    disabled_reason       text,
    failing_since         timestamptz,
    created_at            timestamptz not null default now()
);
create index webhook_endpoints_tenant on webhook_endpoints (tenant_id);

create table webhook_deliveries (
    id               uuid primary key,       -- the webhook-id header; the same on every attempt
    seq              bigserial not null unique,
    tenant_id        uuid not null references tenants (id),
    job_id           uuid not null references jobs (id),
    endpoint_id      uuid references webhook_endpoints (id) on delete cascade, -- null: the job's own URL
    url              text not null,
    event            text not null check (event in ('start', 'progress', 'completed')),
    body             text not null,
    status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts         int not null default 0,
    next_attempt_at  timestamptz not null default now(),
    lease_owner      text,
    lease_until      timestamptz,
    window_start     timestamptz not null default now(), -- retries stop a retry period after this
    created_at       timestamptz not null default now(),
    finished_at      timestamptz,
    last_status_code int,
    last_error       text
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_job on webhook_deliveries (job_id, seq);
create index webhook_deliveries_tenant on webhook_deliveries (tenant_id, seq desc);

create table webhook_attempts (
    delivery_id       uuid not null references webhook_deliveries (id) on delete cascade,
    attempt           int not null,
    tenant_id         uuid not null references tenants (id),
    started_at        timestamptz not null,
    latency_ms        int not null,
    status_code       int,                   -- null: no answer (refused, timed out, address not allowed)
    response_excerpt  text,
    error             text,
    node              text not null,
    primary key (delivery_id, attempt)
);

-- The JSON a delivery carries: the event, and the job as it was when the change was committed.
create function retina_webhook_body(j jobs, ev text) returns text language sql stable as $$
    select json_build_object(
        'type', 'job.' || ev,
        'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', json_strip_nulls(json_build_object(
            'id', j.id,
            'model', j.model_name || '@' || j.model_version,
            'status', j.status,
            'progress', case when j.status = 'running' then round(j.progress::numeric, 2) end,
            'attempts', j.attempts,
            'error', case when j.status in ('failed', 'canceled') and j.error_type is not null
                then json_build_object('type', j.error_type, 'detail', j.error_detail) end,
            'output', case when j.status = 'succeeded'
                then json_build_object('mediaType', j.output_media_type, 'bytes', j.output_bytes,
                                       'url', '/v1/jobs/' || j.id || '/result') end,
            'createdAt', to_char(j.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'startedAt', to_char(j.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'finishedAt', to_char(j.finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'links', json_build_object('self', '/v1/jobs/' || j.id, 'result', '/v1/jobs/' || j.id || '/result')
        ))
    )::text
$$;

-- start: the first time a worker starts the job; progress: each further tenth of its work; completed: it
-- ended (succeeded, failed or canceled).
create function retina_job_webhooks() returns trigger language plpgsql as $$
declare
    ev text;
    payload text;
begin
    if new.status in ('succeeded', 'failed', 'canceled') and old.status not in ('succeeded', 'failed', 'canceled') then
        ev := 'completed';
    elsif new.status = 'running' and old.status = 'queued' and old.started_at is null then
        ev := 'start';
    elsif new.status = 'running' and new.progress is not null
          and floor(new.progress * 10) > floor(coalesce(old.progress, 0) * 10) then
        ev := 'progress';
    else
        return null;
    end if;
    if not ((new.webhook_url is not null and ev = any (new.webhook_events))
            or exists (select 1 from webhook_endpoints e
                       where e.tenant_id = new.tenant_id and e.enabled and ev = any (e.events))) then
        return null;
    end if;
    payload := retina_webhook_body(new, ev);
    if new.webhook_url is not null and ev = any (new.webhook_events) then
        insert into webhook_deliveries (id, tenant_id, job_id, url, event, body)
        values (gen_random_uuid(), new.tenant_id, new.id, new.webhook_url, ev, payload);
    end if;
    insert into webhook_deliveries (id, tenant_id, job_id, endpoint_id, url, event, body)
    select gen_random_uuid(), new.tenant_id, new.id, e.id, e.url, ev, payload
    from webhook_endpoints e
    where e.tenant_id = new.tenant_id and e.enabled and ev = any (e.events)
    order by e.created_at;
    return null;
end
$$;

create trigger jobs_webhooks after update of status, progress on jobs
    for each row when (old.status is distinct from new.status or old.progress is distinct from new.progress)
    execute function retina_job_webhooks();

grant select, insert, update, delete on webhook_signing_secrets, webhook_endpoints, webhook_deliveries to retina_app;
grant select, insert on webhook_attempts to retina_app;
grant usage on all sequences in schema public to retina_app;

alter table webhook_signing_secrets enable row level security;
alter table webhook_signing_secrets force row level security;
create policy tenant_rows on webhook_signing_secrets using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
alter table webhook_endpoints enable row level security;
alter table webhook_endpoints force row level security;
create policy tenant_rows on webhook_endpoints using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
alter table webhook_deliveries enable row level security;
alter table webhook_deliveries force row level security;
create policy tenant_rows on webhook_deliveries using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
alter table webhook_attempts enable row level security;
alter table webhook_attempts force row level security;
create policy tenant_rows on webhook_attempts using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
