-- Retina's first schema: tenants and their API keys, the model registry, jobs with their payloads,
-- idempotency records, and the append-only usage ledger. Every tenant-owned row carries tenant_id.

create table tenants (
    id          uuid primary key,
    name        text not null unique,
    status      text not null default 'active' check (status in ('active', 'suspended')),
    created_at  timestamptz not null default now()
);

-- Keys are never stored in clear: only a SHA-256 of the whole key, found by its public prefix.
create table api_keys (
    id            uuid primary key,
    tenant_id     uuid not null references tenants (id) on delete cascade,
    name          text not null,
    prefix        text not null unique,
    secret_hash   bytea not null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index api_keys_tenant on api_keys (tenant_id);

create table models (
    name         text primary key check (name ~ '^[a-z][a-z0-9-]{1,62}$'),
    task         text not null,
    description  text not null,
    created_at   timestamptz not null default now()
);

-- One row per version of a model. artifact holds where the weights are and how to load them;
-- parameters is the schema of the request parameters the version accepts.
create table model_versions (
    model_name                  text not null references models (name),
    version                     int not null check (version > 0),
    format                      text not null check (format in ('tfjs-layers', 'tfjs-graph', 'saved-model')),
    source                      text not null,
    artifact_digest             text not null,
    artifact                    jsonb not null,
    parameters                  jsonb not null,
    batch_safe                  boolean not null default false,
    price_per_image_micros      bigint not null check (price_per_image_micros >= 0),
    price_per_megapixel_micros  bigint not null check (price_per_megapixel_micros >= 0),
    status                      text not null check (status in ('staged', 'active', 'retired')),
    created_at                  timestamptz not null default now(),
    primary key (model_name, version)
);
create unique index model_versions_one_active on model_versions (model_name) where status = 'active';

create table jobs (
    id                 uuid primary key,
    tenant_id          uuid not null references tenants (id),
    model_name         text not null,
    model_version      int not null,
    status             text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    params             jsonb not null,
    input_media_type   text not null,
    input_width        int not null,
    input_height       int not null,
    input_bytes        bigint not null,
    input_digest       text not null,
    output_media_type  text,
    output_bytes       bigint,
    output_digest      text,
    -- attempt fences every effect: a worker's writes carry the attempt it claimed, and only the current one lands
    attempts           int not null default 0,
    max_attempts       int not null check (max_attempts > 0),
    lease_owner        text,
    lease_expires_at   timestamptz,
    error_type         text,
    error_detail       text,
    created_at         timestamptz not null default now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    foreign key (model_name, model_version) references model_versions (model_name, version)
);
create index jobs_tenant_page on jobs (tenant_id, created_at desc, id desc);
create index jobs_unfinished on jobs (created_at) where status in ('queued', 'running');

-- Payloads apart from the job row, so listing and polling jobs never drags image bytes along.
create table job_payloads (
    job_id     uuid not null references jobs (id) on delete cascade,
    kind       text not null check (kind in ('input', 'output')),
    tenant_id  uuid not null references tenants (id),
    bytes      bytea not null,
    primary key (job_id, kind)
);

-- An Idempotency-Key binds a tenant's request to the job it created. locked_until is set while the
-- original request is still being answered (a repeat then gets 409) and expires if its node died.
create table idempotency_keys (
    tenant_id       uuid not null references tenants (id) on delete cascade,
    key             text not null,
    request_digest  text not null,
    job_id          uuid references jobs (id) on delete cascade,
    locked_until    timestamptz,
    created_at      timestamptz not null default now(),
    primary key (tenant_id, key)
);

-- Append-only: one row per billable (succeeded) job, written in the job's completing transaction.
create table usage_ledger (
    id             bigserial primary key,
    job_id         uuid not null unique references jobs (id),
    tenant_id      uuid not null references tenants (id),
    model_name     text not null,
    model_version  int not null,
    megapixels     numeric(12, 6) not null,
    amount_micros  bigint not null check (amount_micros >= 0),
    recorded_at    timestamptz not null default now()
);
create index usage_ledger_tenant_time on usage_ledger (tenant_id, recorded_at);

create function usage_ledger_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'usage_ledger is append-only';
end;
$$;
create trigger usage_ledger_append_only before update or delete on usage_ledger
    for each row execute function usage_ledger_is_append_only();
