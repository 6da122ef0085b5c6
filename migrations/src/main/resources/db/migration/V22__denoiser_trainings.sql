-- Trainings of the autoencoder family: task 'denoise' trains a tenant's own denoiser (served as a version of task
-- 'denoise-trained', format 'retina-denoiser') from a zip of its images, with noise added in training.
alter table trainings drop constraint trainings_task_check;
alter table trainings add constraint trainings_task_check check (task in ('classify', 'denoise'));
alter table model_versions
    drop constraint model_versions_format_check,
    add constraint model_versions_format_check
        check (format in ('tfjs-layers', 'tfjs-graph', 'saved-model', 'none', 'retina-classifier',
                          'retina-denoiser'));
