-- Trainings: a tenant's labelled images turned into a model only that tenant may see or run. A worker claims a
-- training like a job (attempt-fenced lease), trains epoch by epoch, and after each epoch commits in one statement
-- the checkpoint it would resume from and the epoch's ledger line; a training whose worker dies is resumed by
-- another from its last committed epoch, and an epoch is billed once whatever happens.

-- A private model belongs to one tenant and is named <tenant>/<name>; catalog and uploaded models have no owner.
alter table models add column owner_tenant uuid references tenants (id);
alter table models drop constraint models_name_check;
alter table models add constraint models_name_check
    check (name ~ '^([a-z0-9][a-z0-9-]{0,39}/)?[a-z][a-z0-9-]{1,62}$');
alter table models add constraint models_private_named
    check ((owner_tenant is null) = (position('/' in name) = 0));

alter table model_versions
    drop constraint model_versions_format_check,
    add constraint model_versions_format_check
        check (format in ('tfjs-layers', 'tfjs-graph', 'saved-model', 'none', 'retina-classifier'));

-- What training costs and how much of it a plan allows.
alter table plans
    add column price_per_image_epoch_micros  bigint not null default 100 check (price_per_image_epoch_micros >= 0),
    add column max_training_images           int not null default 2000 check (max_training_images > 0),
    add column max_training_epochs           int not null default 50 check (max_training_epochs > 0),
    add column max_concurrent_trainings      int not null default 1 check (max_concurrent_trainings > 0);
update plans set max_training_images = 200, max_training_epochs = 20 where name = 'free';
update plans set max_training_images = 20000, max_training_epochs = 200, max_concurrent_trainings = 4
    where name = 'enterprise';

create table trainings (
    id                uuid primary key,
    tenant_id         uuid not null references tenants (id),
    model_name        text not null,
    -- the version the result becomes: the model's next number when the training was accepted
    model_version     int not null check (model_version > 0),
    task              text not null check (task in ('classify')),
    status            text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    settings          jsonb not null,
    classes           jsonb not null,
    images            int not null check (images > 0),
    dataset_digest    text not null,
    attempts          int not null default 0,
    max_attempts      int not null check (max_attempts > 0),
    lease_owner       text,
    lease_expires_at  timestamptz,
    -- epochs committed, each with its report in history; checkpoint resumes after the last of them
    epochs_done       int not null default 0,
    train_images      int,
    history           jsonb not null default '[]',
    checkpoint        bytea,
    report            jsonb,
    error_type        text,
    error_detail      text,
    created_at        timestamptz not null default now(),
    started_at        timestamptz,
    finished_at       timestamptz
);
create index trainings_tenant_page on trainings (tenant_id, created_at desc, id desc);
create index trainings_unfinished on trainings (created_at) where status in ('queued', 'running');
-- one training at a time per model, so that the version number it was given stays its own
create unique index trainings_one_per_model on trainings (model_name) where status in ('queued', 'running');

-- The uploaded dataset (a zip, one folder per class), apart from the row like a job's payloads.
create table training_datasets (
    training_id  uuid primary key references trainings (id) on delete cascade,
    tenant_id    uuid not null references tenants (id),
    bytes        bytea not null
);

-- The ledger bills jobs and training epochs: a line is one or the other, each at most once.
alter table usage_ledger
    alter column job_id drop not null,
    add column training_id     uuid references trainings (id),
    add column training_epoch  int check (training_epoch > 0),
    add column images          int,
    add constraint usage_ledger_one_subject check ((job_id is null) <> (training_id is null)),
    add constraint usage_ledger_epoch_once unique (training_id, training_epoch);

grant select, insert, update on trainings, training_datasets to retina_app;
alter table trainings enable row level security;
alter table trainings force row level security;
create policy tenant_rows on trainings using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
alter table training_datasets enable row level security;
alter table training_datasets force row level security;
create policy tenant_rows on training_datasets using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
