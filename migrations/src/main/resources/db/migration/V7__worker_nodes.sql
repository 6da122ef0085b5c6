-- What each worker node last said about itself: the device its models run on and the model versions it
-- has in memory, with their size. The residency keeper of each worker node writes its row at every change
-- and every heartbeat, so the admin API shows live facts without asking a runner (asking one would start
-- it and load its model). A row whose heartbeat is late belongs to a node that stopped or is cut off.
-- One row per node (its cluster address), replaced at every beat.
create table worker_nodes (
    node                text primary key check (length(node) between 1 and 200),
    -- e.g. ["api", "worker"]
    roles               jsonb not null default '[]',
    device              text not null check (device in ('gpu', 'cpu')),
    device_description  text not null,
    memory_budget       bigint not null check (memory_budget >= 0),
    -- per version in memory: {"version": "name@v", "bytes": ..., "pinned": ...}
    resident            jsonb not null default '[]',
    -- how often the node beats, so a reader can tell a late heartbeat
    heartbeat_every_ms  int not null check (heartbeat_every_ms > 0),
    -- by the node's clock; a beat older than the stored one is ignored
    heartbeat_at        timestamptz not null
);

-- Not tenant data: no row-level security. Rows are replaced, never deleted.
grant select, insert, update on worker_nodes to retina_app;
