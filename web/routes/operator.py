"""The operator's pages: the live cycle view, its JSON, decisions (accept a warning, remind a unit),
the draft report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from baocao import calendar
from web import read
from web.app import lang_of, render
from web.guard import Denied, check, form_of

router = APIRouter()


def _status(ctx, period: str | None) -> dict:
    return read.operator_status(ctx.s, period, ctx.access.explanations())


@router.get("/op")
async def operator_page(request: Request, period: str | None = None, notice: str | None = None):
    await check(request, operator=True)
    ctx = request.app.state.ctx
    st = _status(ctx, period)
    names = {c: u.name for c, u in ctx.catalog.org_units.items()}
    return render(request, "operator.html", st=st, names=names,
                  notice=notice if notice in ("accepted_warning", "reminded") else None)


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
    except ValueError:
        raise Denied(400, "bad_request") from None
    ctx.access.record(ctx.now(), "accept_warning", session=actor.session, ip=actor.ip, unit_code=unit,
                      **{k: v for k, v in row.items() if k != "unit_code"})
    return _back(request, period, "accepted_warning")


@router.post("/op/remind")
async def remind(request: Request):
    actor = await check(request, operator=True, write=True)
    ctx = request.app.state.ctx
    f = await form_of(request)
    unit, period, dataset = f.get("unit", ""), f.get("period", ""), f.get("dataset", "")
    if unit not in ctx.catalog.org_units:
        raise Denied(404, "unknown_unit")
    now = ctx.now()
    stage = f"web-{now.astimezone(calendar.TZ):%Y%m%d%H%M%S}"  # an operator's reminder is its own message

    def send(res):
        from baocao.services import deliver
        from notifications.notify import enqueue_due
        from notifications.schedule import Due

        con = res.con()
        row = con.execute("select deadline_at from ops.cycle where period = ? and dataset_code = ?",
                          [period, dataset]).fetchone()
        if row is None:
            raise ValueError("no such cycle")
        days = read.working_days_left(now.astimezone(calendar.TZ).date(), row[0].astimezone(calendar.TZ).date())
        due = Due(kind="reminder", period=period, dataset_code=dataset, unit_code=unit, stage=stage,
                  audience="unit", days=max(days, 0), received=False)
        keys = enqueue_due(con, [due], deadline=row[0], catalog_dir=ctx.catalog.folder)
        deliver.dispatch(res)
        return keys

    try:
        keys = _answerer(ctx).call(send)
    except ValueError:
        raise Denied(400, "bad_request") from None
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
