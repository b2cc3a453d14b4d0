-- marts.indicator_lineage: the lineage of marts.indicator_value at every level, one row per
-- submission version behind a figure. Built by a join, not a list: the rows of
-- core.indicator_contribution (the ones the mart sums) placed in their unit, commune, region,
-- province and the country. A view, so the build holds nothing; a submission of a divided unit
-- counts once per org unit even when it feeds two of its units.
create or replace view marts.indicator_lineage as
with c as (
    select period, indicator_code, unit_code, commune_code, region, province_code, submission_id
    from core.indicator_contribution
),
leveled as (
    select period, indicator_code, 'unit' as level, unit_code as org_unit_code, province_code, submission_id from c
    union all select period, indicator_code, 'commune', commune_code, province_code, submission_id from c
              where commune_code is not null
    union all select period, indicator_code, 'region', region, province_code, submission_id from c where region <> ''
    union all select period, indicator_code, 'province', province_code, province_code, submission_id from c
              where province_code is not null
    union all select period, indicator_code, 'country', 'VN', null, submission_id from c
)
select distinct period, indicator_code, level, org_unit_code, province_code, submission_id
from leveled;

comment on view marts.indicator_lineage is 'Lineage of marts.indicator_value at every level: one row per period, indicator, org unit and submission version the value was computed from (a province''s are those of its units, the country''s those of every province). In the snapshot (a view: not in the Parquet export).';
comment on column marts.indicator_lineage.period is 'Reporting period code (as in marts.indicator_value).';
comment on column marts.indicator_lineage.indicator_code is 'Indicator code (core.indicator).';
comment on column marts.indicator_lineage.level is 'unit, commune, region, province or country (as in marts.indicator_value).';
comment on column marts.indicator_lineage.org_unit_code is 'The org unit of the figure at that level (as in marts.indicator_value.org_unit_code).';
comment on column marts.indicator_lineage.province_code is 'Province the org unit lies in (null at level country).';
comment on column marts.indicator_lineage.submission_id is 'A submission version (raw.submission.submission_id) whose values went into the figure.';
