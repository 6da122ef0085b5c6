-- How far a running job's attempt has got, 0..1, for work that takes long enough to want watching (a photo
-- denoised in tiles, an x8 upscale). Written by the worker that holds the job, fenced by its attempt; a new
-- attempt starts again from nothing.
alter table jobs add column progress real check (progress between 0 and 1);
