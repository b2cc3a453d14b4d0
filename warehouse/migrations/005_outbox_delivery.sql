-- 005: the outbox hands delivery to its own store (notifications/store.py, an SQLite file beside
-- the warehouse) so that talking to Slack never holds DuckDB's one writer. ops.outbox stays the
-- record the enqueueing run writes in its own transaction; its delivery columns are a mirror of
-- the store, refreshed whenever the warehouse is written. New: the render inputs (so dates in a
-- message are computed when it is sent), the time of the event a message reports (per-recipient
-- order), and two more states: superseded (no longer true when it was due to go; `error` says
-- why) and digested (delivered inside one operator digest; `error` names the digest's key).
-- DuckDB cannot change a check constraint in place: the table is rebuilt with its rows.
create table ops.outbox_005 (
    key             varchar primary key,
    unit_code       varchar not null,
    period          varchar not null,
    dataset_code    varchar not null,
    kind            varchar not null,
    stage           varchar not null,
    recipient       varchar not null,
    lang            varchar not null default 'vi',
    text            varchar not null,
    blocks_json     varchar not null,
    render_json     varchar,
    event_at        timestamptz,
    status          varchar not null default 'pending',
    slack_channel   varchar,
    slack_ts        varchar,
    error           varchar,
    attempts        integer not null default 0,
    created_at      timestamptz not null default current_timestamp,
    sent_at         timestamptz,
    check (status in ('pending', 'sent', 'failed', 'superseded', 'digested')),
    check (lang in ('vi', 'en'))
);

insert into ops.outbox_005 (key, unit_code, period, dataset_code, kind, stage, recipient, lang, text,
                            blocks_json, event_at, status, slack_channel, slack_ts, error, attempts,
                            created_at, sent_at)
select key, unit_code, period, dataset_code, kind, stage, recipient, lang, text, blocks_json,
       created_at, status, slack_channel, slack_ts, error, attempts, created_at, sent_at
from ops.outbox;

drop table ops.outbox;
alter table ops.outbox_005 rename to outbox;

comment on table ops.outbox is 'Notification outbox: one row per notification key, written when it is decided; delivery state mirrored from the delivery store (notifications/store.py)';
comment on column ops.outbox.key is 'kind:period:dataset_code:unit_code:stage (deterministic)';
comment on column ops.outbox.unit_code is 'Unit the notification is about (OPERATOR for summaries).';
comment on column ops.outbox.period is 'Reporting period code.';
comment on column ops.outbox.dataset_code is 'Data set.';
comment on column ops.outbox.kind is 'cycle_opened, reminder, overdue, escalation, feedback or operator_summary.';
comment on column ops.outbox.stage is 'd-7, d-1, overdue, escalation, escalation-operator, a submission id or a date.';
comment on column ops.outbox.recipient is 'Slack channel name or id, or comma-separated e-mails for a DM';
comment on column ops.outbox.lang is 'Language of the text: vi or en.';
comment on column ops.outbox.text is 'Fallback notification text as enqueued (Slack mrkdwn, escaped); re-rendered when sent.';
comment on column ops.outbox.blocks_json is 'Block Kit blocks as JSON, as enqueued.';
comment on column ops.outbox.render_json is 'Render function and inputs (JSON): the message is rendered again when it is sent, so its dates are true then.';
comment on column ops.outbox.event_at is 'When the event the message reports happened (submission received, deadline passed, …): per-recipient delivery order.';
comment on column ops.outbox.status is 'pending | sent | failed | superseded | digested (mirror of the delivery store)';
comment on column ops.outbox.slack_channel is 'Channel id the message went (or is going) to.';
comment on column ops.outbox.slack_ts is 'Slack''s message timestamp once sent.';
comment on column ops.outbox.error is 'failed: the error code; pending: last transient error; superseded: why; digested: the digest key.';
comment on column ops.outbox.attempts is 'posts started; > 0 means a previous post may have reached Slack';
comment on column ops.outbox.created_at is 'When the notification was enqueued.';
comment on column ops.outbox.sent_at is 'When Slack accepted it.';
