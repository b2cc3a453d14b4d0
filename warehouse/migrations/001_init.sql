-- 001: the state the pipeline keeps. Append-only: a later change is a new numbered file.
-- Layers: raw (what was received), core (catalog dimensions and facts), ops (pipeline state),
-- marts (analysts' contract; rebuilt by warehouse/models/marts/*.sql).
create schema if not exists raw;
create schema if not exists core;
create schema if not exists ops;
create schema if not exists marts;

-- One row per file received from a unit (every version is kept).
create table if not exists raw.submission (
    submission_id   varchar primary key,   -- sha256 of unit|file hash (first 20 hex): same file, same id
    unit_code       varchar not null,      -- the unit whose inbox or command delivered the file
    period          varchar not null,      -- e.g. 2026H1
    dataset_code    varchar not null,
    version         integer not null,      -- 1, 2, … per unit, period and data set, by arrival
    file_name       varchar not null,
    stored_path     varchar not null,      -- where the file is kept in the submission store
    sha256          varchar not null,
    size_bytes      bigint not null,
    file_format     varchar,               -- xlsx | csv | unknown
    received_at     timestamptz not null,
    source          varchar not null,      -- inbox | cli | http | demo
    status          varchar not null,      -- accepted | accepted_with_warnings | rejected
    n_errors        integer not null,
    n_warnings      integer not null,
    validated_at    timestamptz not null,
    is_late         boolean not null
);

-- One row per validation finding (errors and warnings) of a submission.
create table if not exists raw.finding (
    submission_id   varchar not null,
    seq             integer not null,
    severity        varchar not null,      -- error | warning
    rule_id         varchar not null,
    sheet           varchar,
    cell            varchar,
    element_code    varchar,
    value_raw       varchar,
    message_vi      varchar not null,
    message_en      varchar not null,
    expected_vi     varchar,
    expected_en     varchar,
    primary key (submission_id, seq)
);

-- One row per reported value of an accepted submission version (lineage: submission_id).
create table if not exists core.data_value (
    submission_id   varchar not null,
    unit_code       varchar not null,
    period          varchar not null,
    dataset_code    varchar not null,
    element_code    varchar not null,
    value           double,
    value_raw       varchar,
    sheet           varchar,
    cell            varchar,
    is_flagged      boolean not null default false,  -- carries a plausibility warning
    primary key (submission_id, element_code)
);

-- One row per task status reported in an accepted submission version.
create table if not exists core.task_status (
    submission_id   varchar not null,
    unit_code       varchar not null,
    period          varchar not null,
    plan_code       varchar not null,
    task_no         integer not null,
    status          varchar,               -- hoan_thanh | dang_thuc_hien | chua_thuc_hien | khong_ap_dung
    note            varchar,
    primary key (submission_id, plan_code, task_no)
);

-- One row per narrative section (results, difficulties, recommendations) of a submission version.
create table if not exists core.narrative (
    submission_id   varchar not null,
    unit_code       varchar not null,
    period          varchar not null,
    section         varchar not null,      -- ket_qua | han_che | kien_nghi
    text            varchar,
    primary key (submission_id, section)
);

-- Operators' decisions to accept a warning for a unit and period.
create table if not exists ops.warning_acceptance (
    unit_code       varchar not null,
    period          varchar not null,
    dataset_code    varchar not null,
    rule_id         varchar not null,
    element_code    varchar not null,
    accepted_by     varchar not null,
    reason          varchar,
    accepted_at     timestamptz not null default current_timestamp,
    primary key (unit_code, period, dataset_code, rule_id, element_code)
);

-- One row per data set and period the operator (or the schedule) opened; deadlines from the
-- calendar rule of the data set, with its legal basis.
create table if not exists ops.cycle (
    period          varchar not null,
    dataset_code    varchar not null,
    window_start    date not null,
    window_end      date not null,
    deadline_at     timestamptz not null,
    close_at        timestamptz not null,
    legal_basis     varchar not null,
    opened_at       timestamptz not null,
    closed_at       timestamptz,
    primary key (period, dataset_code)
);
