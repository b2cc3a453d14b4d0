-- marts.task_progress: one row per period, assigned task and reporting unit: the status the unit
-- reported in its version that counts, and whether the task is overdue against its deadline.
create or replace table marts.task_progress as
with tasks_due as (
    select distinct c.period, c.window_end, a.unit_code, t.plan_code, t.task_no, t.title, t.lead_agency_now as lead_agency,
           t.deadline_text, try_cast(t.deadline_date as date) as deadline_date
    from ops.cycle c
    join core.dataset_assignment a on a.dataset_code = c.dataset_code
        and coalesce(a.valid_from, '0000') <= cast(c.window_end as varchar)
        and coalesce(a.valid_to, '9999') >= cast(c.window_end as varchar)
    join core.org_unit ou on ou.unit_code = a.unit_code
    join core.task t on t.lead_unit_now = a.unit_code  -- a task led by a unit merged away: at its successor
                     or (t.lead_unit_code = 'COMMUNE' and ou.unit_type in ('commune', 'ward', 'special_zone'))
)
select d.period, d.plan_code, d.task_no, d.title, d.lead_agency, d.unit_code, d.deadline_text, d.deadline_date,
       ts.status, ts.note,
       d.deadline_date is not null and d.deadline_date < d.window_end and coalesce(ts.status, '') <> 'hoan_thanh'
           and coalesce(ts.status, '') <> 'khong_ap_dung' as is_overdue,
       ts.submission_id
from tasks_due d
left join (select ts.* from core.task_status ts join core.current_submission cs using (submission_id)) ts
       on ts.period = d.period and ts.unit_code = d.unit_code and ts.plan_code = d.plan_code and ts.task_no = d.task_no;

comment on table marts.task_progress is 'One row per period, assigned task and reporting unit: reported status and whether it is overdue.';
comment on column marts.task_progress.period is 'Reporting period code.';
comment on column marts.task_progress.plan_code is 'Plan the task belongs to (KH-50-TU appendix; KH-39-DU commune tasks).';
comment on column marts.task_progress.task_no is 'Task number as in the plan (KH-50-TU: 1–69, 12 missing in the source).';
comment on column marts.task_progress.title is 'Task as worded in the plan.';
comment on column marts.task_progress.lead_agency is 'Lead agency as worded in the plan, with «(nay là Sở …)» when it was merged away in 2025.';
comment on column marts.task_progress.unit_code is 'Reporting unit responsible for the status.';
comment on column marts.task_progress.deadline_text is 'Deadline as worded (a quarter or a year).';
comment on column marts.task_progress.deadline_date is 'Last day of that quarter or year.';
comment on column marts.task_progress.status is 'hoan_thanh, dang_thuc_hien, chua_thuc_hien, khong_ap_dung, or null when not reported.';
comment on column marts.task_progress.note is 'The unit''s note on the task.';
comment on column marts.task_progress.is_overdue is 'Deadline passed before the end of the reporting window and the task is not done.';
comment on column marts.task_progress.submission_id is 'Lineage: the submission version the status came from.';
