-- How many replicas a version runs on and how long its jobs may wait. Null means the node's default
-- (retina.workers.scaling): most versions never need their own numbers.
alter table model_versions
    add column min_replicas   int check (min_replicas between 0 and 64),
    add column max_replicas   int check (max_replicas between 1 and 64),
    -- past this expected queue wait the version gains a replica
    add column target_wait_ms int check (target_wait_ms between 100 and 3600000),
    -- past this expected queue wait a submit is refused (503 capacity-exhausted)
    add column max_wait_ms    int check (max_wait_ms between 1000 and 86400000),
    -- 'gpu': place replicas on GPU workers only
    add column device         text check (device in ('any', 'gpu')),
    add constraint model_versions_replica_range
        check (min_replicas is null or max_replicas is null or min_replicas <= max_replicas);

-- Every change in a version's replica count, with its reason, for the console's worker view. Written by
-- the version's runner; append-only, trimmed by age.
create table scaling_events (
    id             bigserial primary key,
    at             timestamptz not null default now(),
    model_name     text not null,
    version        int not null,
    -- 'up' (a replica was placed), 'down' (one was drained), 'lost' (its node left or it was unloaded)
    direction      text not null check (direction in ('up', 'down', 'lost')),
    replicas_from  int not null check (replicas_from >= 0),
    replicas_to    int not null check (replicas_to >= 0),
    node           text,
    reason         text not null check (length(reason) <= 500)
);
create index scaling_events_at on scaling_events (at desc);

grant select, insert, delete on scaling_events to retina_app;
grant usage on all sequences in schema public to retina_app;
