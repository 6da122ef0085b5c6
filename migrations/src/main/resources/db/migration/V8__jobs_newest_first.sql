-- Operators list every tenant's jobs newest first (GET /admin/jobs), a page at a time: without this index
-- each page would sort the whole jobs table. Tenants' own lists use jobs_tenant_page.
create index jobs_newest_first on jobs (created_at desc, id desc);
