"""The operator's pages: the live cycle view, its JSON, decisions (accept a warning, override an
error, remind a unit), the draft report. Every decision: operator session, CSRF, recorded with who,
when and from where (access store audit) and in the warehouse as the command line records it."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from baocao import calendar
from web import answer, read
from web.app import lang_of, render
from web.guard import Denied, check, form_of

router = APIRouter()
NOTICES = ("accepted_warning", "reminded", "overridden", "overridden_partly")


def _status(ctx, period: str | None) -> dict:
    from baocao.decisions import overridable

    rules = tuple(r["id"] for r in ctx.catalog.rules.get("rules", []) if overridable(ctx.catalog, r["id"]))
    return read.operator_status(ctx.s, period, ctx.access.explanations(), rules)


@router.get("/op")
async def operator_page(request: Request, period: str | None = None, notice: str | None = None):
    await check(request, operator=True)
    ctx = request.app.state.ctx
    st = _status(ctx, period)
    names = {c: u.name for c, u in ctx.catalog.org_units.items()}
    el_names = {c: el.name for c, el in ctx.catalog.elements.items()}
    return render(request, "operator.html", st=st, names=names, el_names=el_names,
                  notice=notice if notice in NOTICES else None, nonce=secrets.token_hex(8))


@router.get("/op/status.json")
async def operator_json(request: Request, period: str | None = None):
    await check(request, operator=True)
    return _status(request.app.state.ctx, period)


def _answerer(ctx):
    if ctx.answerer is None:
        raise Denied(503, "bad_request")
    return ctx.answerer


@router.post("/op/accept")
async def accept_warning(request: Request):
    actor = await check(request, operator=True, write=True)
    ctx = request.app.state.ctx
    f = await form_of(request)
    unit, period, element, rule = f.get("unit", ""), f.get("period", ""), f.get("element", ""), f.get("rule", "")
    reason = f.get("reason", "").strip()[:1000]
    if unit not in ctx.catalog.org_units:
        raise Denied(404, "unknown_unit")
    from baocao.services import operator as operator_service

    try:
        row = _answerer(ctx).call(lambda res: operator_service.accept_warning(res, unit, period, element, rule,
                                                                              f"{actor.label} (web)", reason))
    except ValueError as exc:
        raise Denied(400, "bad_request", str(exc)) from None
    ctx.access.record(ctx.now(), "accept_warning", session=actor.session, ip=actor.ip, unit_code=unit,
                      **{k: v for k, v in row.items() if k != "unit_code"})
    return _back(request, period, "accepted_warning")


@router.post("/op/override")
async def override_error(request: Request):
    """Accept an overridable error with a reason: the same record as `baocao accept-error`
    (ops.error_override: who, when, why); the version counts when no other error is left."""
    actor = await check(request, operator=True, write=True)
    ctx = request.app.state.ctx
    f = await form_of(request)
    unit, period, rule = f.get("unit", ""), f.get("period", ""), f.get("rule", "")
    reason = f.get("reason", "").strip()[:1000]
    if unit not in ctx.catalog.org_units:
        raise Denied(404, "unknown_unit")
    if not reason:
        raise Denied(400, "reason_needed")
    from baocao.services import operator as operator_service

    def decide(res):
        row = operator_service.accept_error(res, unit, period, rule, f"{actor.label} (web)", reason)
        answer.write_results(res, ctx.s, [row["submission_id"]])  # the unit's page shows the new state at once
        return row

    try:
        row = _answerer(ctx).call(decide)
    except ValueError as exc:
        raise Denied(400, "bad_request", str(exc)) from None
    ctx.access.record(ctx.now(), "override_error", session=actor.session, ip=actor.ip, unit_code=unit,
                      **{k: v for k, v in row.items() if k != "unit_code"})
    return _back(request, period, "overridden" if row["status"] == "accepted_by_override" else "overridden_partly")


@router.post("/op/remind")
async def remind(request: Request):
    """(Re)send a reminder to a unit now, through the outbox: once per press of the button (the
    form's nonce), checked again when it is sent (a unit that has reported meanwhile is not told)."""
    actor = await check(request, operator=True, write=True)
    ctx = request.app.state.ctx
    f = await form_of(request)
    unit, period, dataset = f.get("unit", ""), f.get("period", ""), f.get("dataset", "")
    nonce = f.get("nonce", "") or secrets.token_hex(8)
    if unit not in ctx.catalog.org_units:
        raise Denied(404, "unknown_unit")
    now = ctx.now()
    if not ctx.access.once("remind", nonce, now):  # the same form posted again (double click, reload)
        return _back(request, period, "reminded")
    stage = f"web-{now.astimezone(calendar.TZ):%Y%m%d%H%M%S}"  # an operator's reminder is its own message
    from baocao.services import operator as operator_service

    try:
        keys = _answerer(ctx).call(lambda res: operator_service.remind(res, unit, period, dataset, stage,
                                                                       catalog_dir=ctx.catalog.folder))
    except ValueError as exc:
        raise Denied(400, "bad_request", str(exc)) from None
    ctx.access.record(now, "remind", session=actor.session, ip=actor.ip, unit_code=unit, period=period,
                      dataset=dataset, keys=keys)
    return _back(request, period, "reminded")


def _back(request: Request, period: str, notice: str):
    from fastapi.responses import RedirectResponse

    return RedirectResponse(f"/op?period={period}&notice={notice}", status_code=303)


@router.get("/op/report")
async def draft_report(request: Request, period: str | None = None):
    actor = await check(request, operator=True)
    ctx = request.app.state.ctx
    st = _status(ctx, period)
    if not st["period"]:
        raise Denied(404, "not_found")
    html = read.report_path(ctx.s, st["period"], lang_of(request))
    ctx.access.record(ctx.now(), "view_report", session=actor.session, ip=actor.ip, period=st["period"])
    # the report is one self-contained page of our own making (its styles inline; no scripts)
    return HTMLResponse(html.read_text(encoding="utf-8"), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"})
