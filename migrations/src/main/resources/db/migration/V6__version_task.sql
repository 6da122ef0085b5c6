-- A version's own task: how its network's input is prepared and its output read. A model's versions answer
-- alike (the model's task), but may get there differently: background-removal@2 (MediaPipe Meet) has a
-- two-class output that remove-background-two-class turns into the same cutout as @1's. Until now a
-- version ran its model's task, which does not fit such a network; built-in versions get their own task
-- again when a node next registers the catalog.
alter table model_versions add column task text;
update model_versions v set task = m.task from models m where m.name = v.model_name;
alter table model_versions alter column task set not null;
