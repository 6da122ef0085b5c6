-- Every job has a deadline: the moment it must have finished by, counted from its submission (the tenant's
-- Cancel-After header or deadline parameter, else the node's default), never past its plan's cap. A job still
-- queued or running then fails with error type 'deadline-exceeded' and is not billed. Null only for jobs
-- stored before this migration.
alter table jobs add column deadline_at timestamptz;

-- The longest deadline a tenant on the plan may ask for, in seconds. Free tenants get 5 minutes, enough for
-- the slowest catalog model on a 4-megapixel image on a CPU; paying plans may queue long batches of work.
alter table plans add column max_deadline_seconds int not null default 3600 check (max_deadline_seconds > 0);
update plans set max_deadline_seconds = 300 where name = 'free';
update plans set max_deadline_seconds = 1800 where name = 'standard';
update plans set max_deadline_seconds = 3600 where name = 'enterprise';

-- The sweeper looks for unfinished jobs whose deadline has passed.
create index jobs_unfinished_deadline on jobs (deadline_at) where status in ('queued', 'running');
