-- A payload is stored out of line (its TOAST table, in chunks of about 2 kB, each with an index entry) once
-- its row passes toast_tuple_target, 2 kB by default. Small images, the common case for thumbnails and tiny
-- jobs, then cost a job several chunk rows and index entries to write and to read back at the claim and at
-- the result read. Up to the most a row may hold in one page, they now stay in the payload's own row; larger
-- ones are stored out of line as before. Applies to rows written from now on.
alter table job_payloads set (toast_tuple_target = 8160);
