-- A foreign key is checked by a query per inserted row that locks the parent row (FOR KEY SHARE). On the job
-- path those parents are the hottest rows in the store: every submission locked its tenant's row and its
-- model version's row, and every completion its tenant's row again (output payload, ledger row, month's
-- spend), so the concurrent jobs of one tenant, or of one model, all share those locks. Each further holder
-- of a shared row lock makes PostgreSQL create a multixact, dirty the parent's page and log the lock.
--
-- Nothing these keys guard against can happen: tenants, models and model versions are never deleted (a
-- tenant is marked deleted, a version retired) and neither are jobs; a job's tenant and version come from
-- rows the submission has just read; a payload, a ledger row and a month's spend are written by the same
-- statement that writes their job's (or training's) row, from that row. The keys of other tables stay.
alter table jobs drop constraint jobs_tenant_id_fkey;
alter table jobs drop constraint jobs_model_name_model_version_fkey;
alter table job_payloads drop constraint job_payloads_tenant_id_fkey;
alter table job_payloads drop constraint job_payloads_job_id_fkey;
alter table usage_ledger drop constraint usage_ledger_tenant_id_fkey;
alter table usage_ledger drop constraint usage_ledger_job_id_fkey;
alter table tenant_monthly_spend drop constraint tenant_monthly_spend_tenant_id_fkey;
