"""What baocao does, as plain functions over `baocao.resources.Resources` — the one layer every
door calls: the CLI (`cli/`), the Prefect tasks (`tasks/`), and the web app, the Slack listener
or any new door.

| module | stage |
|---|---|
| `cycles` | open and close a period's cycles; what the scheduled passes do at a moment |
| `process` | collect the inbox, parse → validate → load the pending submissions, aggregate, publish |
| `answer` | tell units: annotated workbooks, feedback, reminders, escalations, the operator's summary (into the outbox) |
| `deliver` | hand the outbox over to the delivery store (warehouse runs); send from it through the sender resource, without the warehouse |
| `operator` | an operator's decisions and questions: accept a warning or an overridable error, release a held version, reopen a cycle, a unit's history, data docs |

A new door (e-mail, say) hands each file it receives to `intake.store.receive` (received at
`res.now()`, the server's clock), then calls `services.process.process(res)` (or lets the watcher's
event do it); the answers go out through the outbox (`services.deliver.handoff(res)` in the run
that enqueued, then `services.deliver.deliver(res)` or the deliver-notifications flow). That is
one adapter file and nothing else.

Services never read the environment or the wall clock and hold no connection of their own: the
warehouse, store, catalog, sender, events and clock are in the `Resources` handed in.
"""
