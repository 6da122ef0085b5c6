-- The W3C traceparent of the request that submitted the job, when that request was traced: whichever worker
-- runs the job, on whichever attempt, records its spans in the submitter's trace. Null for untraced jobs and
-- for jobs stored before this migration. Nullable without a default, so adding it rewrites no rows.
alter table jobs add column trace_parent text;
