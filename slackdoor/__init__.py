"""The Slack door: units send their workbook and get their answer in their own channel.

A Socket Mode listener (`baocao listen`, or beside the watcher in `baocao serve`) takes a file
shared in a unit's channel through the one intake path (the same store, the same
`baocao.submission.received` event, the same warm-path processing as the inbox watcher) and the
answer comes back in the thread of the file, with the annotated workbook. "biểu mẫu"/"form" sends
the unit's pre-filled workbook; "trạng thái"/"status" the unit's own state in every open cycle.

    config.py    SLACK_BOT_TOKEN + SLACK_APP_TOKEN turn the door on
    receive.py   the intake call (stand-in for intake.store.receive) and the audit sidecar
    access.py    which unit a channel (or a contact's DM) speaks for
    web.py       the Slack calls, each exactly once (thread replies by key, uploads by file name)
    answer.py    the outbox's sender when the door is on: feedback in the file's thread, forms attached
    forms.py     the unit's workbook pre-filled with last period's values as a reference column
    status.py    a unit's state in the open cycles
    texts.py     what the bot says (Vietnamese first, English)
    listener.py  the Socket Mode client: spool, ack at once, work after the ack
"""
