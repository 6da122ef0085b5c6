-- The purge looks for due inputs and due results apart, each in the order jobs ended, so that jobs whose
-- result is still kept (a day by default) are never in the way of inputs that are due (at once by default).
-- jobs_holding_data held both kinds in one order: the purge took the oldest jobs holding any image, found
-- nothing due in those that kept only their result, and stopped there.
drop index jobs_holding_data;

create index jobs_holding_input on jobs (finished_at)
    where status in ('succeeded', 'failed', 'canceled') and input_deleted_at is null;

create index jobs_holding_result on jobs (finished_at)
    where status = 'succeeded' and output_deleted_at is null;
