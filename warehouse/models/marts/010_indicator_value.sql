-- marts.indicator_value: one row per period, indicator and org unit at each level: unit (one
-- reporting unit), commune (a commune, ward or special zone with its health station), region (a
-- former province before the July 2025 merger, within today's province), province and country
-- (every province in the warehouse). Ratios are sums of numerators over sums of denominators (never
-- an average of unit ratios) at every level; unit shares count flags over contributing units;
-- direct values are taken as reported. Reports by units that no longer exist (before the July 2025
-- merger) are mapped onto today's units through core.crosswalk, with the crosswalk weight for
-- divided units; core.unit_area places each unit in its commune and province (both in
-- core.indicator_contribution). The lineage of every figure is the view marts.indicator_lineage,
-- one row per submission. No list of submission ids here, even per unit: at bench scale 4 such
-- lists took this model alone from 1.0 GB to 1.55 GB, and list aggregates cannot spill, so a
-- DuckDB memory limit failed instead of bounding the build.
-- Built one level per statement (the contributions once into a temporary table, then the table
-- macro below once per level): the same rows
-- as one statement over all five levels, but each statement's hash tables hold one level's groups
-- (at bench scale 4 the unit and commune levels are ~600,000 groups each), which halves the
-- build's peak memory.
create or replace temp table indicator_rows as select * from core.indicator_contribution;
create or replace temp macro indicator_value_at(lvl) as table
with unit_rows as (
    -- one row per reporting unit, indicator and period on today's unit (crosswalk applied)
    select * from indicator_rows
),
expected_units as (
    select distinct c.period, i.indicator_code, a.unit_code as reporter_code,
           coalesce(x.new_code, a.unit_code) as unit_code, ua.commune_code, ua.province_code,
           coalesce(ou.former_province, '') as region
    from core.indicator i
    join core.dataset_element de on de.element_code = i.numerator
    join ops.cycle c on c.dataset_code = de.dataset_code
    join core.dataset_assignment a on a.dataset_code = de.dataset_code
        and coalesce(a.valid_from, '0000') <= cast(c.window_end as varchar)
        and coalesce(a.valid_to, '9999') >= cast(c.window_end as varchar)
    left join core.crosswalk x on x.old_code = a.unit_code
    join core.org_unit ou on ou.unit_code = coalesce(x.new_code, a.unit_code)
    left join core.unit_area ua on ua.unit_code = ou.unit_code
),
leveled as (
    -- each unit row at level `lvl` (the same rows feed every level: the country is the sum of its
    -- provinces, a province of its communes and provincial units); a unit outside any commune has
    -- no commune row, one outside a former province no region row
    select * from (
        select *, lvl as level,
               case lvl when 'unit' then unit_code when 'commune' then commune_code
                        when 'region' then nullif(region, '') when 'province' then province_code
                        else 'VN' end as org_unit_code,
               case when lvl = 'country' then null else province_code end as in_province
        from unit_rows)
    where org_unit_code is not null
),
expected_leveled as (
    select * from (
        select *, lvl as level,
               case lvl when 'unit' then unit_code when 'commune' then commune_code
                        when 'region' then nullif(region, '') when 'province' then province_code
                        else 'VN' end as org_unit_code
        from expected_units)
    where org_unit_code is not null
),
per_reporter as (
    -- one row per reporter in each org unit: the distinct count below is then a plain count, in
    -- grouping DuckDB can spill (count(distinct) keeps a hash set per group)
    select indicator_code, period, level, org_unit_code, reporter_code, any_value(in_province) as in_province,
           sum(num) as num, sum(den) as den
    from leveled
    group by indicator_code, period, level, org_unit_code, reporter_code
),
agg as (
    select indicator_code, period, level, org_unit_code, any_value(in_province) as province_code,
           sum(num) as numerator, sum(den) as denominator, count(reporter_code) as units_contributing
    from per_reporter
    group by indicator_code, period, level, org_unit_code
),
exp as (
    select indicator_code, period, level, org_unit_code, count(reporter_code) as units_expected
    from (select distinct indicator_code, period, level, org_unit_code, reporter_code from expected_leveled)
    group by indicator_code, period, level, org_unit_code
)
select a.period, a.indicator_code, a.level, a.org_unit_code, a.province_code,
       a.numerator, a.denominator,
       a.numerator / nullif(a.denominator, 0) * i.factor as value,
       i.unit,
       a.units_contributing,
       coalesce(e.units_expected, a.units_contributing) as units_expected,
       round(a.units_contributing / nullif(coalesce(e.units_expected, a.units_contributing), 0), 4) as coverage
from agg a
join core.indicator i using (indicator_code)
left join exp e using (indicator_code, period, level, org_unit_code);

create or replace table marts.indicator_value as select * from indicator_value_at('unit');
insert into marts.indicator_value select * from indicator_value_at('commune');
insert into marts.indicator_value select * from indicator_value_at('region');
insert into marts.indicator_value select * from indicator_value_at('province');
insert into marts.indicator_value select * from indicator_value_at('country');
drop macro table indicator_value_at;
drop table indicator_rows;

comment on table marts.indicator_value is 'One row per period, indicator and org unit (level unit, commune, region, province or country): the indicator computed from summed numerators and denominators of the submission versions that count.';
comment on column marts.indicator_value.period is 'Reporting period code: 2026H1, 2026H2 or 2026.';
comment on column marts.indicator_value.indicator_code is 'Indicator code (core.indicator).';
comment on column marts.indicator_value.level is 'unit (one reporting unit), commune (a commune, ward or special zone with its health station), region (former province before the July 2025 merger), province or country (every province in the warehouse).';
comment on column marts.indicator_value.org_unit_code is 'Unit code at level unit, commune code at level commune, former province name at level region, province code (e.g. LD) at level province, VN at level country.';
comment on column marts.indicator_value.province_code is 'Province the org unit lies in (the province itself at level province; null at level country): a province''s report reads its own rows with it.';
comment on column marts.indicator_value.numerator is 'Sum of the numerator element over contributing units (for direct indicators: sum of reported values).';
comment on column marts.indicator_value.denominator is 'Sum of the denominator element (for unit shares and direct values: the number of contributing units).';
comment on column marts.indicator_value.value is 'numerator / denominator × the indicator factor (100 for %, 10,000 per 10,000 population, 1,000 for ‰).';
comment on column marts.indicator_value.unit is 'Unit of the value: pct, per_10k, permille, years, cm, count, vaccines, milestone.';
comment on column marts.indicator_value.units_contributing is 'Reporting units (as they were at the time, e.g. pre-merger communes) whose accepted submission supplied both numerator and denominator.';
comment on column marts.indicator_value.units_expected is 'Units expected to report the numerator element in this period within the org unit (units valid at the end of the period''s window, open cycles).';
comment on column marts.indicator_value.coverage is 'units_contributing / units_expected (0–1).';
