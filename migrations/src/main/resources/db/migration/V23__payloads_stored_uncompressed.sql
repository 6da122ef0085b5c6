-- Images arrive and leave compressed (PNG, JPEG, WebP) and datasets are zips: PostgreSQL's own compression of a
-- large value (pglz, tried on every value over about 2 kB) spends CPU on every job's input and result to gain
-- nothing. Such values are still stored out of line, only not compressed again. Applies to rows written from now on.
alter table job_payloads alter column bytes set storage external;
alter table training_datasets alter column bytes set storage external;
