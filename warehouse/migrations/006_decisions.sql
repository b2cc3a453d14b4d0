-- 006: the operator's decisions on errors and on periods, each with who, when and why.

-- An error of a rule the catalog marks overridable (catalog/validation_rules.yaml), accepted for
-- one unit, period and element: the version it was taken on counts (status accepted_by_override)
-- and later versions are not refused for it again.
create table if not exists ops.error_override (
    unit_code       varchar not null,
    period          varchar not null,
    dataset_code    varchar not null,
    rule_id         varchar not null,
    element_code    varchar not null,
    submission_id   varchar not null,      -- the version the decision was taken on
    decided_by      varchar not null,
    reason          varchar not null,
    decided_at      timestamptz not null,
    primary key (unit_code, period, dataset_code, rule_id, element_code)
);

-- A version held for the operator (sent after its cycle's closing date) released into what
-- counts, or a cycle reopened: one row per decision.
create table if not exists ops.period_decision (
    decision        varchar not null,      -- release | reopen
    period          varchar not null,
    dataset_code    varchar not null,
    unit_code       varchar,               -- release: the unit
    submission_id   varchar,               -- release: the held version
    until_at        timestamptz,           -- reopen: the new closing date
    decided_by      varchar not null,
    reason          varchar not null,
    decided_at      timestamptz not null
);

comment on table ops.error_override is 'Operator decisions accepting an error of an overridable rule for one unit, period and element: who, when and why; the version then counts.';
comment on column ops.error_override.unit_code is 'Unit the decision is for.';
comment on column ops.error_override.period is 'Reporting period.';
comment on column ops.error_override.dataset_code is 'Data set.';
comment on column ops.error_override.rule_id is 'Rule accepted (overridable: true in catalog/validation_rules.yaml).';
comment on column ops.error_override.element_code is 'Element the finding was on.';
comment on column ops.error_override.submission_id is 'The version the decision was taken on (raw.submission).';
comment on column ops.error_override.decided_by is 'Who decided (name or account).';
comment on column ops.error_override.reason is 'Why (e.g. verified with the commune station by telephone).';
comment on column ops.error_override.decided_at is 'When (server clock).';
comment on table ops.period_decision is 'Operator decisions on periods: a held late version released, or a cycle reopened.';
comment on column ops.period_decision.decision is 'release (a held version now counts) or reopen (a closed cycle accepts files again).';
comment on column ops.period_decision.period is 'Reporting period.';
comment on column ops.period_decision.dataset_code is 'Data set.';
comment on column ops.period_decision.unit_code is 'For release: the unit.';
comment on column ops.period_decision.submission_id is 'For release: the held version (raw.submission).';
comment on column ops.period_decision.until_at is 'For reopen: the new closing date.';
comment on column ops.period_decision.decided_by is 'Who decided.';
comment on column ops.period_decision.reason is 'Why.';
comment on column ops.period_decision.decided_at is 'When (server clock).';
comment on column raw.submission.status is 'accepted, accepted_with_warnings, accepted_by_override (an error the operator accepted, ops.error_override), held (sent after its cycle closed; waits for the operator, not counted) or rejected.';
