-- Dynamic batching terms per model version: how many jobs one Session.run may take, and how long the first
-- queued job may wait for others to join it. Only versions proven batch-safe are ever batched.
alter table model_versions add column max_batch_size int not null default 1 check (max_batch_size between 1 and 64);
alter table model_versions add column max_batch_delay_ms int not null default 0 check (max_batch_delay_ms between 0 and 1000);
