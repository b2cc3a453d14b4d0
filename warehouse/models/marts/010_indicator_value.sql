-- marts.indicator_value: one row per period, indicator and org unit at each level (unit, region =
-- former province, province). Ratios are sums of numerators over sums of denominators (never an
-- average of unit ratios); unit shares count flags over contributing units; direct values are
-- taken as reported. Reports by units that no longer exist (before the July 2025 merger) are mapped
-- onto today's units through core.crosswalk, with the crosswalk weight for divided units.
create or replace table marts.indicator_value as
with reporter as (
    -- one row per reporting unit (as it reported), indicator and period
    select i.indicator_code, n.period, n.unit_code as reporter_code, n.value as num, d.value as den, n.submission_id
    from core.indicator i
    join core.current_value n on n.element_code = i.numerator and n.value is not null
    join core.current_value d on d.element_code = i.denominator and d.period = n.period
                              and d.unit_code = n.unit_code and d.value is not null
    where i.kind = 'ratio'
    union all
    select i.indicator_code, n.period, n.unit_code, n.value, 1.0, n.submission_id
    from core.indicator i
    join core.current_value n on n.element_code = i.numerator and n.value is not null
    where i.kind in ('unit_share', 'direct')
),
unit_rows as (
    -- onto today's units through the crosswalk (a weight below 1 splits a divided unit)
    select r.indicator_code, r.period, r.reporter_code, coalesce(x.new_code, r.reporter_code) as unit_code,
           coalesce(ou.former_province, '') as region,
           r.num * coalesce(x.weight, 1) as num, r.den * coalesce(x.weight, 1) as den, r.submission_id
    from reporter r
    left join core.crosswalk x on x.old_code = r.reporter_code
    join core.org_unit ou on ou.unit_code = coalesce(x.new_code, r.reporter_code)
),
expected_units as (
    select distinct c.period, i.indicator_code, a.unit_code as reporter_code,
           coalesce(x.new_code, a.unit_code) as unit_code, coalesce(ou.former_province, '') as region
    from core.indicator i
    join core.dataset_element de on de.element_code = i.numerator
    join ops.cycle c on c.dataset_code = de.dataset_code
    join core.dataset_assignment a on a.dataset_code = de.dataset_code
        and coalesce(a.valid_from, '0000') <= cast(c.window_end as varchar)
        and coalesce(a.valid_to, '9999') >= cast(c.window_end as varchar)
    left join core.crosswalk x on x.old_code = a.unit_code
    join core.org_unit ou on ou.unit_code = coalesce(x.new_code, a.unit_code)
),
province as (select unit_code from core.org_unit where unit_type = 'province' limit 1),
agg as (
    select indicator_code, period,
           case when grouping(unit_code) = 0 then 'unit' when grouping(region) = 0 then 'region' else 'province' end as level,
           coalesce(unit_code, nullif(region, ''), (select unit_code from province)) as org_unit_code,
           sum(num) as numerator, sum(den) as denominator,
           count(distinct reporter_code) as units_contributing,
           list(distinct submission_id order by submission_id) as submission_ids
    from unit_rows
    group by grouping sets ((indicator_code, period, unit_code, region), (indicator_code, period, region),
                            (indicator_code, period))
),
exp as (
    select indicator_code, period,
           case when grouping(unit_code) = 0 then 'unit' when grouping(region) = 0 then 'region' else 'province' end as level,
           coalesce(unit_code, nullif(region, ''), (select unit_code from province)) as org_unit_code,
           count(distinct reporter_code) as units_expected
    from expected_units
    group by grouping sets ((indicator_code, period, unit_code, region), (indicator_code, period, region),
                            (indicator_code, period))
)
select a.period, a.indicator_code, a.level, a.org_unit_code,
       a.numerator, a.denominator,
       a.numerator / nullif(a.denominator, 0) * i.factor as value,
       i.unit,
       a.units_contributing,
       coalesce(e.units_expected, a.units_contributing) as units_expected,
       round(a.units_contributing / nullif(coalesce(e.units_expected, a.units_contributing), 0), 4) as coverage,
       a.submission_ids
from agg a
join core.indicator i using (indicator_code)
left join exp e using (indicator_code, period, level, org_unit_code);

comment on table marts.indicator_value is 'One row per period, indicator and org unit (level unit, region or province): the indicator computed from summed numerators and denominators of the submission versions that count.';
comment on column marts.indicator_value.period is 'Reporting period code: 2026H1, 2026H2 or 2026.';
comment on column marts.indicator_value.indicator_code is 'Indicator code (core.indicator).';
comment on column marts.indicator_value.level is 'unit (one reporting unit), region (former province before the July 2025 merger) or province.';
comment on column marts.indicator_value.org_unit_code is 'Unit code at level unit, former province name at level region, province code at level province.';
comment on column marts.indicator_value.numerator is 'Sum of the numerator element over contributing units (for direct indicators: sum of reported values).';
comment on column marts.indicator_value.denominator is 'Sum of the denominator element (for unit shares and direct values: the number of contributing units).';
comment on column marts.indicator_value.value is 'numerator / denominator × the indicator factor (100 for %, 10,000 per 10,000 population, 1,000 for ‰).';
comment on column marts.indicator_value.unit is 'Unit of the value: pct, per_10k, permille, years, cm, count, vaccines, milestone.';
comment on column marts.indicator_value.units_contributing is 'Reporting units (as they were at the time, e.g. pre-merger communes) whose accepted submission supplied both numerator and denominator.';
comment on column marts.indicator_value.units_expected is 'Units expected to report the numerator element in this period (units valid at the end of the period''s window, open cycles).';
comment on column marts.indicator_value.coverage is 'units_contributing / units_expected (0–1).';
comment on column marts.indicator_value.submission_ids is 'Lineage: the submission versions (raw.submission.submission_id) the value was computed from.';
