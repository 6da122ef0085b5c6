-- How each node's last load of each model version went, so that the registry says why a version cannot
-- serve (its artifact is missing, TensorFlow refuses its graph, the node ran out of memory), and from which
-- canonical SavedModel it serves when it can. One row per version and node, replaced at every load.
create table model_loads (
    model_name  text not null,
    version     int not null,
    node        text not null check (length(node) between 1 and 200),
    outcome     text not null check (outcome in ('loaded', 'failed')),
    detail      text check (length(detail) <= 2000),
    -- per model file: {"file": ..., "sourceDigest": ..., "canonicalDigest": ...}
    forms       jsonb not null default '[]',
    at          timestamptz not null default now(),
    primary key (model_name, version, node),
    foreign key (model_name, version) references model_versions (model_name, version),
    check ((outcome = 'failed') = (detail is not null))
);

-- Not tenant data: no row-level security. Rows are replaced, never deleted.
grant select, insert, update on model_loads to retina_app;
