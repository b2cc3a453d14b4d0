-- core.current_submission: one row per unit, period and data set — the version that counts
-- (the latest accepted one, an error the operator accepted included; rejected and held versions
-- stay in raw.submission for history).
create or replace view core.current_submission as
select *
from raw.submission
where status in ('accepted', 'accepted_with_warnings', 'accepted_by_override')
qualify row_number() over (partition by unit_code, period, dataset_code order by version desc) = 1;

-- core.current_value: one row per unit, period and element from the version that counts.
create or replace view core.current_value as
select dv.*
from core.data_value dv
join core.current_submission cs using (submission_id);

comment on view core.current_submission is 'One row per unit, period and data set: the version that counts (latest accepted).';
comment on view core.current_value is 'One row per unit, period and element from the version that counts.';
