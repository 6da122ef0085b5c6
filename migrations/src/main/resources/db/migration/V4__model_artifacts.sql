-- Uploaded model artifacts: the zip an admin uploaded, kept by its SHA-256 so that every worker node, present
-- or added later, can unpack the same bytes into its model cache. Built-in versions have no row here: their
-- packages come from the build. No tenant data, so no row-level security.
create table model_artifacts (
    digest      text primary key check (digest ~ '^sha256:[0-9a-f]{64}$'),
    size_bytes  bigint not null check (size_bytes > 0),
    bytes       bytea not null,
    created_at  timestamptz not null default now()
);

-- The version that was active before the current one, which a rollback re-activates.
alter table models add column previous_version int check (previous_version > 0);

-- Artifacts are never changed once stored: a new upload is a new digest.
grant select, insert on model_artifacts to retina_app;
