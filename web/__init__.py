"""The web door: a unit sends and fixes its own report; the operator watches the cycle live.

    app.py       the app factory (FastAPI, Jinja with autoescape, security headers)
    access.py    access links, sessions, audit, explanations, rate limits (SQLite under <home>/web/)
    auth.py      the signed session cookie, CSRF tokens, who is asking (Actor)
    guard.py     the one unit check every route calls
    upload.py    size cap, type sniffing, the hand-over to intake.store.receive
    answer.py    the answerer: processes uploads on the warm path under the warehouse lock
    read.py      what the pages show, read from the published snapshot and the answerer's results
    forms.py     blank and pre-filled workbooks
    routes/      unit, operator and sign-in pages
The web process never holds DuckDB's writer outside the answerer's warehouse lock (docs/operations.md).
"""
