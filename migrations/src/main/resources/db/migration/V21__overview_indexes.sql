-- The console's overview reads recent finished jobs (the last hour by default) and this month's ledger across
-- all tenants; without these, both would be a scan of every job and every ledger row ever written.
create index jobs_finished_at on jobs (finished_at) where finished_at is not null;
create index usage_ledger_recorded_at on usage_ledger (recorded_at);
