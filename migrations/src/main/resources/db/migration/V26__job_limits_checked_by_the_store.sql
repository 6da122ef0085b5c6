-- A tenant's concurrent-jobs and monthly-spend limits, checked by the store itself, so that a submission is
-- one round trip: the job's insert and this check go in one batch, which commits (or, when the check raises,
-- rolls back) the moment the check returns. The tenant's lock is then held for the count and the commit's
-- flush only, never while the node is away between statements.
--
-- Called after the job is inserted: the count includes it. Each statement of a volatile function takes its
-- own snapshot, so the count, taken after the lock is granted, sees every job an earlier holder committed.
-- Raises RT001 (concurrent jobs; detail: how many the tenant had before this one) or RT002 (monthly spend;
-- detail: micros spent this month).
create function check_job_limits(p_tenant uuid, p_max_unfinished bigint, p_spend_cap_micros bigint)
returns void language plpgsql volatile as $$
declare
    v_unfinished bigint;
    v_spent bigint;
begin
    perform pg_advisory_xact_lock(hashtextextended(p_tenant::text, 0));
    select count(*) into v_unfinished
      from jobs where tenant_id = p_tenant and status in ('queued', 'running');
    if v_unfinished - 1 >= p_max_unfinished then
        raise exception 'the tenant is at its concurrent-jobs limit'
            using errcode = 'RT001', detail = (v_unfinished - 1)::text;
    end if;
    select coalesce(sum(amount_micros), 0) into v_spent
      from tenant_monthly_spend
     where tenant_id = p_tenant and month = date_trunc('month', now() at time zone 'UTC')::date;
    if v_spent >= p_spend_cap_micros then
        raise exception 'the tenant is at its monthly spend cap'
            using errcode = 'RT002', detail = v_spent::text;
    end if;
end
$$;
