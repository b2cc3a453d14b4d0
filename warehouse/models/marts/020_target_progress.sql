-- marts.target_progress: one row per plan target and period: whether the target is met (milestone due) or on track (milestone ahead), evaluated as the plan words it:
-- gt/ge/lt/le strictly as written; "about" within 1% (at least 0.05); a range "a–b" is reached at a
-- (the plans set ranges as levels to reach, so above b still counts); eq 100% within 0.05;
-- increase over the plan's baseline (absolute or relative); a past milestone is judged on the value
-- of its own year when the warehouse has one, else on the latest data and says whether that came
-- after or before the milestone year (judged_on). A value
-- from fewer units than the data set's min_coverage (catalog/datasets.yaml) is not judged:
-- status insufficient_data ("chưa đủ số liệu"), with the coverage it rests on.
-- Each target is judged on its plan's scope unit (core.plan.scope_unit): a commune plan on its
-- commune, a province or department plan on its province. A scope unit with no value in this
-- warehouse (e.g. another province's plan) is no_data ("chưa có số liệu"), never another unit's.
create or replace table marts.target_progress as
with pv as (
    -- the aggregate of each org unit (a commune's code is both a unit and a commune: the commune
    -- with its station counts; a unit that is no area, e.g. a department, keeps its own value)
    select period, indicator_code, org_unit_code, value, coverage,
           cast(left(period, 4) as integer) + case when period like '%H1' then 0.5 else 1.0 end as period_end
    from marts.indicator_value where level <> 'region'
    qualify row_number() over (partition by period, indicator_code, org_unit_code order by level = 'unit') = 1
),
tt as (
    select t.*, p.scope_unit from core.target t join core.plan p using (plan_code)
),
min_cov as (
    -- the coverage a value needs, per indicator and frequency (H: six-monthly, Y: annual data sets)
    select i.indicator_code, d.frequency, max(d.min_coverage) as min_coverage
    from core.indicator i
    join core.dataset_element de on de.element_code = i.numerator
    join core.dataset d using (dataset_code)
    group by all
),
periods as (
    select distinct period, cast(left(period, 4) as integer) as period_year, period_end from pv
),
latest as (
    -- for each period, the latest province value known by then (annual statistics such as life
    -- expectancy arrive once a year), and the value at the end of each milestone year
    select p.period, p.period_year, p.period_end, t.target_id,
           arg_max(pv.value, pv.period_end) filter (where pv.period_end <= p.period_end) as value,
           arg_max(pv.period, pv.period_end) filter (where pv.period_end <= p.period_end) as value_period,
           arg_max(pv.coverage, pv.period_end) filter (where pv.period_end <= p.period_end) as coverage,
           max(pv.period_end) filter (where pv.period_end <= p.period_end) as value_end,
           arg_max(pv.value, pv.period_end) filter (where pv.period_end <= t.milestone_year + 1
                                                     and pv.period_end > t.milestone_year) as milestone_value,
           arg_max(pv.period, pv.period_end) filter (where pv.period_end <= t.milestone_year + 1
                                                      and pv.period_end > t.milestone_year) as milestone_period,
           arg_max(pv.coverage, pv.period_end) filter (where pv.period_end <= t.milestone_year + 1
                                                        and pv.period_end > t.milestone_year) as milestone_coverage
    from periods p
    cross join tt t
    left join pv on pv.indicator_code = t.indicator_code and pv.org_unit_code = t.scope_unit
    group by all
),
t as (
    select t.*, l.period, l.period_year, l.period_end,
           -- a milestone already past is judged on the value of its own year when there is one
           case when l.period_end > t.milestone_year + 1 and l.milestone_value is not null
                then l.milestone_value else l.value end as value,
           case when l.period_end > t.milestone_year + 1 and l.milestone_value is not null
                then l.milestone_period else l.value_period end as value_period,
           case when l.period_end > t.milestone_year + 1 and l.milestone_value is not null
                then l.milestone_coverage else l.coverage end as coverage,
           case when l.value is null then null
                when l.period_end > t.milestone_year + 1 and l.milestone_value is not null then 'milestone_year'
                when l.period_end > t.milestone_year + 1 and l.value_end > t.milestone_year + 1 then 'later_data'
                when l.period_end > t.milestone_year + 1 then 'earlier_data'
                else 'latest' end as judged_on,
           case when t.op in ('lt', 'le') then -1 else 1 end as direction,
           case
               when t.op = 'range' then t.low
               when t.op = 'increase' and t.increase_kind = 'relative_pct' then t.baseline_value * (1 + t.target_value / 100)
               when t.op = 'increase' then t.baseline_value + t.target_value
               when t.op = 'milestone' then 1
               else t.target_value
           end as threshold
    from tt t
    join latest l using (target_id)
),
tc as (
    select t.*, mc.min_coverage
    from t
    left join min_cov mc on mc.indicator_code = t.indicator_code
                        and mc.frequency = case when t.value_period like '%H%' then 'H' else 'Y' end
),
e as (
    select *,
           case
               when value is null then null
               when op = 'gt' then value > target_value
               when op = 'ge' then value >= target_value
               when op = 'lt' then value < target_value
               when op = 'le' then value <= target_value
               when op = 'eq' then value >= target_value - 0.05
               when op = 'about' then abs(value - target_value) <= greatest(0.01 * abs(target_value), 0.05)
               when op = 'range' then value >= low
               when op = 'increase' then (case when threshold is null then null else value >= threshold end)
               when op = 'milestone' then value >= 1
           end as meets,
           (from_year is not null and period_year >= from_year) or period_end >= milestone_year + 1 as is_due,
           coalesce(coverage, 0) < coalesce(min_coverage, 0) as is_thin
    from tc
)
select plan_code, scope_unit, target_id, indicator_code, period, text, op, target_value, low, high, increase_kind,
       baseline_year, baseline_value, unit, milestone_year, from_year, value, value_period, judged_on, coverage,
       min_coverage, threshold,
       case
           when value is null then 'no_data'
           when is_thin then 'insufficient_data'
           when meets is null then 'no_baseline'
           when is_due and meets then 'met'
           when is_due then 'not_met'
           else 'not_yet_due'
       end as status,
       case
           when is_due or value is null or is_thin or meets is null then null
           when meets then 'on_track'
           when baseline_value is not null and baseline_year is not null and baseline_year + 1 < period_end then
               case
                   when direction * (value - (baseline_value + (threshold - baseline_value)
                        * (period_end - (baseline_year + 1)) / nullif(milestone_year - baseline_year, 0))) >= 0 then 'on_track'
                   when direction * (value - (baseline_value + (threshold - baseline_value)
                        * (period_end - (baseline_year + 1)) / nullif(milestone_year - baseline_year, 0)))
                        >= -0.1 * abs(threshold - baseline_value) then 'at_risk'
                   else 'off_track'
               end
           when abs(threshold - value) <= 0.05 * greatest(abs(threshold), 1) then 'at_risk'
           else 'off_track'
       end as trajectory,
       note
from e;

comment on table marts.target_progress is 'One row per plan target and period, judged on the plan''s scope unit: met / not met when the milestone is due, otherwise on track / at risk / off track from the linear trajectory between the baseline and the milestone year.';
comment on column marts.target_progress.plan_code is 'Plan (core.plan): CTHD-72-LD, KH-50-TU, KH-39-DU, KH-243-SYT.';
comment on column marts.target_progress.scope_unit is 'Unit whose aggregate the target is judged on (core.plan.scope_unit): a commune, a province or the country (VN).';
comment on column marts.target_progress.target_id is 'Stable target id <plan>/Tnn from catalog/plans.yaml.';
comment on column marts.target_progress.indicator_code is 'Indicator the target is set on.';
comment on column marts.target_progress.period is 'Period whose value of the scope unit is evaluated.';
comment on column marts.target_progress.text is 'The target as the plan words it (Vietnamese, verbatim; a table row with its cells and their columns).';
comment on column marts.target_progress.op is 'gt, ge, lt, le, about, range, eq, increase or milestone.';
comment on column marts.target_progress.target_value is 'The figure of the target (for increase: the increase).';
comment on column marts.target_progress.low is 'Lower bound of a range target.';
comment on column marts.target_progress.high is 'Upper bound of a range target.';
comment on column marts.target_progress.increase_kind is 'absolute or relative_pct, for increase targets.';
comment on column marts.target_progress.baseline_year is 'Year of the baseline the plan gives, if any.';
comment on column marts.target_progress.baseline_value is 'Baseline value the plan gives, if any.';
comment on column marts.target_progress.unit is 'Unit of the target: pct, per_10k, permille, years, cm, count, vaccines.';
comment on column marts.target_progress.milestone_year is 'Year by which the target is to be reached.';
comment on column marts.target_progress.from_year is 'First year a standing target applies (evaluated every period from then).';
comment on column marts.target_progress.value is 'Value of the scope unit judged (null: chưa có số liệu, no data for that unit): the latest known by the period (for a past milestone, the value of the milestone year when available).';
comment on column marts.target_progress.value_period is 'Period the judged value comes from (annual statistics arrive once a year).';
comment on column marts.target_progress.coverage is 'Share of expected units behind the judged value (0–1).';
comment on column marts.target_progress.min_coverage is 'Coverage the value needs to be judged (the data set''s min_coverage in catalog/datasets.yaml); below it the status is insufficient_data.';
comment on column marts.target_progress.judged_on is 'latest (the latest value known by the period), milestone_year (a past milestone judged on its own year), later_data or earlier_data (a past milestone judged on data from after or before its year, none of its own year being available).';
comment on column marts.target_progress.threshold is 'The value the indicator must reach (range: its lower bound, above the upper bound still counts; increase: baseline + increase).';
comment on column marts.target_progress.status is 'met, not_met (milestone due), not_yet_due, no_data (no value), insufficient_data (chưa đủ số liệu: coverage below min_coverage) or no_baseline (increase target without a baseline).';
comment on column marts.target_progress.trajectory is 'For targets not yet due: on_track, at_risk or off_track (linear between baseline and milestone).';
comment on column marts.target_progress.note is 'Reviewer note on the target (e.g. where the source is inconsistent).';
