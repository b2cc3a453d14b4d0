-- core.indicator_contribution: one row per reporting unit (as it reported), indicator and period,
-- placed on today's unit through the crosswalk (a weight below 1 splits a divided unit into one
-- row per unit it went to) and in that unit's commune, region and province. The marts sum these
-- rows into marts.indicator_value and list their submissions in marts.indicator_lineage.
create or replace view core.indicator_contribution as
with reporter as (
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
)
select r.indicator_code, r.period, r.reporter_code, coalesce(x.new_code, r.reporter_code) as unit_code,
       ua.commune_code, ua.province_code, coalesce(ou.former_province, '') as region,
       r.num * coalesce(x.weight, 1) as num, r.den * coalesce(x.weight, 1) as den, r.submission_id
from reporter r
left join core.crosswalk x on x.old_code = r.reporter_code
join core.org_unit ou on ou.unit_code = coalesce(x.new_code, r.reporter_code)
left join core.unit_area ua on ua.unit_code = ou.unit_code;

comment on view core.indicator_contribution is 'One row per reporting unit, indicator and period (one per unit it went to for a divided pre-merger unit): the numerator and denominator it contributes to today''s unit, commune, region and province, and the submission version they came from.';
comment on column core.indicator_contribution.indicator_code is 'Indicator (core.indicator).';
comment on column core.indicator_contribution.period is 'Reporting period code.';
comment on column core.indicator_contribution.reporter_code is 'The unit that reported, as it was then (a pre-merger commune keeps its old code).';
comment on column core.indicator_contribution.unit_code is 'Today''s unit it counts in (through core.crosswalk).';
comment on column core.indicator_contribution.commune_code is 'Commune of that unit (core.unit_area); null for provincial units.';
comment on column core.indicator_contribution.province_code is 'Province of that unit (core.unit_area).';
comment on column core.indicator_contribution.region is 'Former province of that unit (before the July 2025 merger); empty when none.';
comment on column core.indicator_contribution.num is 'Numerator value × the crosswalk weight (for unit shares and direct values: the reported value).';
comment on column core.indicator_contribution.den is 'Denominator value × the crosswalk weight (1 for unit shares and direct values).';
comment on column core.indicator_contribution.submission_id is 'The submission version (raw.submission) of the numerator value.';
