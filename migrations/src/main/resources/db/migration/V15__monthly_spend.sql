-- What each tenant has been billed per calendar month (UTC), kept beside the ledger so that admitting a job
-- reads a few rows instead of summing the month's ledger, whose size grows with the tenant's traffic. The
-- completing statement of a job writes its ledger row and adds its amount here together, so the two always
-- agree. A tenant's month is spread over 8 rows (the completing statement picks one at random), so that
-- concurrent completions of one tenant seldom wait for each other's row lock.
create table tenant_monthly_spend (
    tenant_id      uuid not null references tenants (id),
    month          date not null,
    shard          smallint not null check (shard between 0 and 7),
    amount_micros  bigint not null check (amount_micros >= 0),
    primary key (tenant_id, month, shard)
);

-- the ledger is read under row-level security: see every tenant's rows for the backfill
select set_config('retina.scope', 'system', true);
insert into tenant_monthly_spend (tenant_id, month, shard, amount_micros)
select tenant_id, date_trunc('month', recorded_at at time zone 'UTC')::date, 0, sum(amount_micros)
from usage_ledger
group by 1, 2;

grant select, insert, update on tenant_monthly_spend to retina_app;
alter table tenant_monthly_spend enable row level security;
alter table tenant_monthly_spend force row level security;
create policy tenant_rows on tenant_monthly_spend using (retina_row_visible(tenant_id)) with check (retina_row_visible(tenant_id));
