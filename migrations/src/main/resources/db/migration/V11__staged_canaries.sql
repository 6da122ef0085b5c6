-- A version an admin uploads is untrusted until promoted: while staged, only the tenants named as its
-- canaries may run or see it. A version is published once it has been active (or ships with the
-- catalog, which is vetted with the release); a published version stays pinnable by every tenant,
-- staged or not, so rolling back never breaks a tenant who pinned it.
alter table model_versions add column published boolean not null default true;
update model_versions v set published = false
 where v.status = 'staged'
   and v.artifact ->> 'store' = 'db'
   and not exists (select 1 from models m where m.name = v.model_name and m.previous_version = v.version);

create table model_canaries (
    model_name  text not null,
    version     int not null,
    tenant_id   uuid not null references tenants (id) on delete cascade,
    added_at    timestamptz not null default now(),
    primary key (model_name, version, tenant_id),
    foreign key (model_name, version) references model_versions (model_name, version)
);
create index model_canaries_tenant on model_canaries (tenant_id);

grant select, insert, delete on model_canaries to retina_app;
