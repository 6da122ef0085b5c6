-- How long a finished job's images are kept. A plan sets it for its tenants; a tenant may set its own (kept in
-- tenant_retention). Results are kept 24 hours by default and inputs not at all: an input is deleted as soon
-- as its job ends unless the tenant opts in. A purge on any api node deletes what is due; the job's row (its
-- metadata) and the ledger stay, and the job says when its images went and why.
alter table plans
    add column results_kept interval not null default '24 hours',
    add column inputs_kept  interval not null default '0';

create table tenant_retention (
    tenant_id     uuid primary key references tenants (id),
    results_kept  interval check (results_kept >= interval '0' and results_kept <= interval '30 days'),
    inputs_kept   interval check (inputs_kept >= interval '0' and inputs_kept <= interval '30 days'),
    updated_at    timestamptz not null default now()
);

alter table jobs
    add column input_deleted_at  timestamptz,
    add column output_deleted_at timestamptz,
    add column data_deleted_by   text check (data_deleted_by in ('retention', 'tenant'));

-- finished jobs that still hold an image, oldest first: what the purge looks at
create index jobs_holding_data on jobs (finished_at)
    where status in ('succeeded', 'failed', 'canceled')
      and (input_deleted_at is null or (status = 'succeeded' and output_deleted_at is null));

grant select, insert, update on tenant_retention to retina_app;
alter table tenant_retention enable row level security;
alter table tenant_retention force row level security;
create policy tenant_rows on tenant_retention using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
