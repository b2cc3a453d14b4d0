-- 002: the notification outbox. One row per notification baocao decided to send (one row per key).
-- Rows are written by notifications.outbox.enqueue() and moved pending -> sent | failed by
-- notifications.outbox.dispatch(); a second enqueue of the same key is a no-op, so each
-- notification reaches Slack at most once, and at least once while its row is pending.
create schema if not exists ops;

create table if not exists ops.outbox (
    key             varchar primary key,   -- kind:period:dataset_code:unit_code:stage
    unit_code       varchar not null,      -- the unit the notification is about (OPERATOR for summaries)
    period          varchar not null,      -- e.g. 2026H1
    dataset_code    varchar not null,
    kind            varchar not null,      -- cycle_opened | reminder | overdue | escalation | feedback | operator_summary
    stage           varchar not null,      -- d-7, d-1, overdue, escalation, escalation-operator, a submission id, …
    recipient       varchar not null,      -- Slack channel name or id, or comma-separated e-mails (DM)
    lang            varchar not null default 'vi',  -- vi | en
    text            varchar not null,      -- fallback / notification text (Slack mrkdwn, escaped)
    blocks_json     varchar not null,      -- Block Kit blocks as JSON
    status          varchar not null default 'pending',  -- pending | sent | failed
    slack_channel   varchar,               -- channel id the message went (or is going) to
    slack_ts        varchar,               -- Slack's message timestamp once sent
    error           varchar,               -- last error code (failed: why; pending: last transient error)
    attempts        integer not null default 0,  -- posts started (counted before each post)
    created_at      timestamptz not null default current_timestamp,
    sent_at         timestamptz,
    check (status in ('pending', 'sent', 'failed')),
    check (lang in ('vi', 'en'))
);

comment on table ops.outbox is 'Notification outbox: one row per notification key; dispatch() sends pending rows exactly once';
comment on column ops.outbox.key is 'kind:period:dataset_code:unit_code:stage (deterministic)';
comment on column ops.outbox.recipient is 'Slack channel name or id, or comma-separated e-mails for a DM';
comment on column ops.outbox.status is 'pending | sent | failed';
comment on column ops.outbox.attempts is 'posts started; > 0 means a previous post may have reached Slack';
