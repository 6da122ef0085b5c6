-- A built-in task may need no model file at all (resize: Retina's own resampling code). Its versions say
-- so with format 'none'; uploads still need one of the model formats, which the admin API checks.
alter table model_versions
    drop constraint model_versions_format_check,
    add constraint model_versions_format_check
        check (format in ('tfjs-layers', 'tfjs-graph', 'saved-model', 'none'));
