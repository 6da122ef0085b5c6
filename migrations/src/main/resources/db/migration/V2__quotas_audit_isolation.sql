-- Quotas by plan with per-tenant overrides, the admin audit trail, and the second wall of tenant isolation:
-- row-level security on every tenant-owned table, enforced for the application role.

create table plans (
    name                      text primary key,
    -- sustained admissions per second, and how many can come at once on top (token bucket)
    rate_per_second           numeric(10, 3) not null check (rate_per_second > 0),
    burst                     int not null check (burst > 0),
    max_concurrent_jobs       int not null check (max_concurrent_jobs > 0),
    max_pixels                bigint not null check (max_pixels > 0),
    monthly_spend_cap_micros  bigint not null check (monthly_spend_cap_micros >= 0),
    -- share of a model's queue a tenant on this plan gets relative to others
    weight                    int not null default 1 check (weight > 0)
);
insert into plans values
    ('free', 1, 5, 4, 4000000, 5000000, 1),
    ('standard', 10, 50, 32, 40000000, 1000000000, 2),
    ('enterprise', 100, 500, 256, 40000000, 100000000000, 4);

alter table tenants add column plan text not null default 'standard' references plans (name);
alter table tenants drop constraint tenants_status_check;
alter table tenants add constraint tenants_status_check check (status in ('active', 'suspended', 'deleted'));

-- Per-tenant overrides of its plan; null keeps the plan's value.
create table tenant_quotas (
    tenant_id                 uuid primary key references tenants (id) on delete cascade,
    rate_per_second           numeric(10, 3) check (rate_per_second > 0),
    burst                     int check (burst > 0),
    max_concurrent_jobs       int check (max_concurrent_jobs > 0),
    max_pixels                bigint check (max_pixels > 0),
    monthly_spend_cap_micros  bigint check (monthly_spend_cap_micros >= 0),
    updated_at                timestamptz not null default now()
);

create table admin_audit (
    id           bigserial primary key,
    actor        text not null,
    action       text not null,
    target_type  text not null,
    target_id    text not null,
    details      jsonb not null default '{}',
    at           timestamptz not null default now()
);
create index admin_audit_at on admin_audit (at desc);
create index jobs_tenant_unfinished on jobs (tenant_id) where status in ('queued', 'running');

-- The application works as retina_app: not the owner of any table and without BYPASSRLS, so row-level
-- security applies to it. The migrating (owner) user becomes a member so its pool can SET ROLE to it.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'retina_app') then
        create role retina_app nologin nobypassrls;
    end if;
end
$$;
grant retina_app to current_user;
grant usage on schema public to retina_app;
grant select on plans to retina_app;
grant select, insert, update on models, model_versions to retina_app;
grant select, insert, update, delete on tenants, api_keys, tenant_quotas, jobs, job_payloads, idempotency_keys
    to retina_app;
grant select, insert on admin_audit to retina_app;
-- The ledger is append-only for the application: no UPDATE, no DELETE.
grant select, insert on usage_ledger to retina_app;
grant usage on all sequences in schema public to retina_app;

-- Tenant scope is set per transaction: retina.tenant_id for a tenant's requests, retina.scope = 'system' for
-- workers, the sweeper and admins. A transaction that sets neither sees no tenant rows at all.
create function retina_row_visible(row_tenant uuid) returns boolean language sql stable as $$
    select current_setting('retina.scope', true) = 'system'
        or row_tenant::text = current_setting('retina.tenant_id', true)
$$;

alter table api_keys enable row level security;
alter table api_keys force row level security;
create policy tenant_rows on api_keys using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table tenant_quotas enable row level security;
alter table tenant_quotas force row level security;
create policy tenant_rows on tenant_quotas using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table jobs enable row level security;
alter table jobs force row level security;
create policy tenant_rows on jobs using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table job_payloads enable row level security;
alter table job_payloads force row level security;
create policy tenant_rows on job_payloads using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table idempotency_keys enable row level security;
alter table idempotency_keys force row level security;
create policy tenant_rows on idempotency_keys using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table usage_ledger enable row level security;
alter table usage_ledger force row level security;
create policy tenant_rows on usage_ledger using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));

alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenant_rows on tenants using (retina_row_visible(id)) with check (retina_row_visible(id));
