-- 004: provenance of each file as intake received it (intake.store.receive). `file_name` stays the
-- name shown to people (the unit's name, invalid UTF-8 shown as U+FFFD); the exact bytes of the
-- name the unit sent are kept too, with the channel's audit trail and the file's own time, which
-- is information only: `received_at` is the server's clock when intake first saw the file.
alter table raw.submission add column if not exists original_name_raw blob;
alter table raw.submission add column if not exists meta json;
alter table raw.submission add column if not exists file_mtime timestamptz;

comment on column raw.submission.file_name is 'The file name the unit sent, for display (bytes that are not UTF-8 shown as U+FFFD); the stored file has the server''s own name (stored_path).';
comment on column raw.submission.received_at is 'Arrival time: the server''s clock when intake first saw the file (watcher, submit, Slack, web); never the file''s own time.';
comment on column raw.submission.source is 'How the file came: inbox, submit, slack, web (demo and bench for generated data; cli, http in older rows).';
comment on column raw.submission.original_name_raw is 'The file name exactly as the unit sent it (any length, any bytes).';
comment on column raw.submission.meta is 'Audit trail of the channel, as JSON: e.g. the Slack user, channel and message, or the web session and address.';
comment on column raw.submission.file_mtime is 'The file''s own modification time as it arrived: information only, never used for lateness.';
