-- marts.reporting_completeness: one row per open cycle (period, data set) and expected unit: was
-- a report received, accepted, on time or late, or is it missing — DHIS2-style reporting rates.
create or replace table marts.reporting_completeness as
with subs as (
    select period, dataset_code, unit_code,
           count(*) as n_versions,
           min(received_at) as first_received_at,
           arg_max(status, version) as last_status
    from raw.submission group by all
)
select c.period, c.dataset_code, a.unit_code, ou.name as unit_name, c.deadline_at,
       s.n_versions is not null as is_received,
       cs.submission_id is not null as is_accepted,
       cs.submission_id is not null and cs.received_at <= c.deadline_at as is_on_time,
       cs.submission_id is not null and cs.received_at > c.deadline_at as is_late,
       cs.submission_id is null as is_missing,
       coalesce(s.n_versions, 0) as n_versions,
       s.first_received_at,
       cs.received_at as accepted_received_at,
       cs.submission_id as accepted_submission_id,
       coalesce(s.last_status, 'not_received') as last_status,
       ua.commune_code,
       ua.province_code
from ops.cycle c
join core.dataset_assignment a on a.dataset_code = c.dataset_code
        and coalesce(a.valid_from, '0000') <= cast(c.window_end as varchar)
        and coalesce(a.valid_to, '9999') >= cast(c.window_end as varchar)
join core.org_unit ou on ou.unit_code = a.unit_code
left join core.unit_area ua on ua.unit_code = a.unit_code
left join subs s on s.period = c.period and s.dataset_code = c.dataset_code and s.unit_code = a.unit_code
left join core.current_submission cs
       on cs.period = c.period and cs.dataset_code = c.dataset_code and cs.unit_code = a.unit_code;

comment on table marts.reporting_completeness is 'One row per open cycle (period, data set) and expected unit: received, accepted, on time, late or missing.';
comment on column marts.reporting_completeness.period is 'Reporting period code.';
comment on column marts.reporting_completeness.dataset_code is 'Data set (core.dataset).';
comment on column marts.reporting_completeness.unit_code is 'Expected reporting unit.';
comment on column marts.reporting_completeness.unit_name is 'Unit name (Vietnamese).';
comment on column marts.reporting_completeness.deadline_at is 'Deadline of the data set for the period (calendar rule with its legal basis in ops.cycle).';
comment on column marts.reporting_completeness.is_received is 'At least one file arrived from the unit.';
comment on column marts.reporting_completeness.is_accepted is 'A version passed validation (with or without warnings).';
comment on column marts.reporting_completeness.is_on_time is 'The version that counts arrived by the deadline.';
comment on column marts.reporting_completeness.is_late is 'The version that counts arrived after the deadline.';
comment on column marts.reporting_completeness.is_missing is 'No accepted version (nothing received, or every version rejected).';
comment on column marts.reporting_completeness.n_versions is 'Files received from the unit for this period and data set.';
comment on column marts.reporting_completeness.first_received_at is 'Arrival of the first file.';
comment on column marts.reporting_completeness.accepted_received_at is 'Arrival of the version that counts.';
comment on column marts.reporting_completeness.accepted_submission_id is 'The version that counts (raw.submission).';
comment on column marts.reporting_completeness.last_status is 'Status of the latest version: accepted, accepted_with_warnings, rejected or not_received.';
comment on column marts.reporting_completeness.commune_code is 'Commune, ward or special zone the unit is or belongs to (core.unit_area); null for provincial units.';
comment on column marts.reporting_completeness.province_code is 'Province the unit belongs to (core.unit_area).';

-- marts.reporting_rate: one row per period and data set: the reporting-rate figures over every
-- unit of the warehouse (one province or several; per province and per commune: reporting_coverage).
create or replace table marts.reporting_rate as
select period, dataset_code,
       count(*) as expected,
       count(*) filter (where is_received) as received,
       count(*) filter (where is_accepted) as accepted,
       count(*) filter (where is_on_time) as on_time,
       count(*) filter (where is_late) as late,
       count(*) filter (where is_missing) as missing,
       round(count(*) filter (where is_accepted) / count(*), 4) as reporting_rate,
       round(count(*) filter (where is_on_time) / count(*), 4) as timeliness_rate
from marts.reporting_completeness
group by all;

comment on table marts.reporting_rate is 'One row per period and data set: expected, received, accepted, on-time, late and missing reports.';
comment on column marts.reporting_rate.period is 'Reporting period code.';
comment on column marts.reporting_rate.dataset_code is 'Data set.';
comment on column marts.reporting_rate.expected is 'Units expected to report.';
comment on column marts.reporting_rate.received is 'Units that sent at least one file.';
comment on column marts.reporting_rate.accepted is 'Units with an accepted version.';
comment on column marts.reporting_rate.on_time is 'Units whose accepted version arrived by the deadline.';
comment on column marts.reporting_rate.late is 'Units whose accepted version arrived after the deadline.';
comment on column marts.reporting_rate.missing is 'Units without an accepted version.';
comment on column marts.reporting_rate.reporting_rate is 'accepted / expected (0–1).';
comment on column marts.reporting_rate.timeliness_rate is 'on_time / expected (0–1).';

-- marts.reporting_coverage: completeness rolled up, one row per period, data set, level (commune,
-- province, country) and org unit: units expected, received, accepted, on time, late, missing.
-- A commune counts itself and its health station; a province its communes and provincial units;
-- the country every province in the warehouse. Counts are of units, so each level is the sum of
-- the level below it (plus the units that belong to no commune, at province level).
create or replace table marts.reporting_coverage as
with leveled as (
    select *, 'commune' as level, commune_code as org_unit_code, province_code as in_province
    from marts.reporting_completeness where commune_code is not null
    union all
    select *, 'province', province_code, province_code from marts.reporting_completeness where province_code is not null
    union all
    select *, 'country', 'VN', null from marts.reporting_completeness
)
select period, dataset_code, level, org_unit_code, any_value(in_province) as province_code,
       count(*) as expected,
       count(*) filter (where is_received) as received,
       count(*) filter (where is_accepted) as accepted,
       count(*) filter (where is_on_time) as on_time,
       count(*) filter (where is_late) as late,
       count(*) filter (where is_missing) as missing,
       round(count(*) filter (where is_accepted) / count(*), 4) as reporting_rate,
       round(count(*) filter (where is_on_time) / count(*), 4) as timeliness_rate,
       list(accepted_submission_id order by accepted_submission_id) filter (where is_accepted) as submission_ids
from leveled
group by period, dataset_code, level, org_unit_code;

comment on table marts.reporting_coverage is 'Completeness rolled up: one row per period, data set, level (commune, province, country) and org unit: expected, received, accepted, on-time, late and missing reports.';
comment on column marts.reporting_coverage.period is 'Reporting period code.';
comment on column marts.reporting_coverage.dataset_code is 'Data set.';
comment on column marts.reporting_coverage.level is 'commune (the commune and its health station), province (its communes and provincial units) or country (every province in the warehouse).';
comment on column marts.reporting_coverage.org_unit_code is 'Commune code, province code (e.g. LD) or VN.';
comment on column marts.reporting_coverage.province_code is 'Province the org unit lies in (null at level country).';
comment on column marts.reporting_coverage.expected is 'Units expected to report within the org unit.';
comment on column marts.reporting_coverage.received is 'Of those, units that sent at least one file.';
comment on column marts.reporting_coverage.accepted is 'Units with an accepted version.';
comment on column marts.reporting_coverage.on_time is 'Units whose accepted version arrived by the deadline.';
comment on column marts.reporting_coverage.late is 'Units whose accepted version arrived after the deadline.';
comment on column marts.reporting_coverage.missing is 'Units without an accepted version.';
comment on column marts.reporting_coverage.reporting_rate is 'accepted / expected (0–1).';
comment on column marts.reporting_coverage.timeliness_rate is 'on_time / expected (0–1).';
comment on column marts.reporting_coverage.submission_ids is 'Lineage: the accepted submission versions (raw.submission) behind the count.';
