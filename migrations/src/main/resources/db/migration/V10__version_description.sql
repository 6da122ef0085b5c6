-- A version's own description: the network it runs. Until now a model had one description, which every
-- built-in version overwrote as the catalog registered it, so the last one read won: background-removal@1,
-- MediaPipe's selfie model, was listed with @2's "MediaPipe Meet segmentation, 256x144". Each version starts
-- with its model's text; built-in versions get their own again when a node next registers the catalog.
alter table model_versions add column description text;
update model_versions v set description = m.description from models m where m.name = v.model_name;
alter table model_versions alter column description set not null;
