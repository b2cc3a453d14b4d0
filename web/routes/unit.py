"""The unit's pages: open data sets, forms to download, the upload, each version's result."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from baocao import calendar
from web import answer, forms, i18n, read, upload
from web.app import lang_of, render
from web.guard import Denied, check, form_of

router = APIRouter()
SID = re.compile(r"^[0-9a-f]{20}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/u/{unit}")
async def unit_page(request: Request, unit: str):
    actor = await check(request, unit=unit)
    ctx = request.app.state.ctx
    lang = lang_of(request)
    datasets = read.unit_page(ctx.s, ctx.catalog, unit, ctx.now(), lang)
    open_keys = {(d.period, d.dataset_code) for d in datasets}
    others = [v for v in read.unit_versions(ctx.s, unit) if (v.period, v.dataset_code) not in open_keys]
    return render(request, "unit.html", unit=ctx.catalog.org_units[unit], datasets=datasets, others=others,
                  can_send=not actor.is_operator)


def _open_dataset(ctx, unit: str, period: str, dataset: str):
    for p, d, _ in read.open_cycles(ctx.s):
        if (p, d) == (period, dataset) and dataset in {x.code for x in ctx.catalog.datasets_for_unit(unit)}:
            return
    raise Denied(404, "not_found")


@router.get("/u/{unit}/form/{period}/{dataset}.xlsx")
async def download_form(request: Request, unit: str, period: str, dataset: str, prefilled: int = 0):
    actor = await check(request, unit=unit)
    ctx = request.app.state.ctx
    _open_dataset(ctx, unit, period, dataset)
    prev = calendar.parse_period(period).previous().code
    previous = read.previous_values(ctx.s, unit, period, dataset) if prefilled else None
    data = forms.workbook_bytes(unit, period, dataset, ctx.catalog, previous, prev)
    ctx.access.record(ctx.now(), "download_form", session=actor.session, ip=actor.ip, unit_code=unit,
                      period=period, dataset=dataset, prefilled=bool(prefilled))
    name = f"{dataset}_{unit}_{period}{'_ky_truoc' if prefilled else ''}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > upload.MAX_BYTES:
            raise upload.Refused("too_large", size=f"> {upload.MAX_BYTES}", limit=upload.MAX_BYTES)
    return bytes(data)


@router.post("/u/{unit}/upload")
async def upload_file(request: Request, unit: str):
    actor = await check(request, unit=unit, write=True)
    ctx = request.app.state.ctx
    lang = lang_of(request)
    now = ctx.now()
    name = unquote(request.headers.get("x-file-name", ""))[:500]
    sid = actor.session.session_id
    if (ctx.access.count_recent(sid, "upload", now - timedelta(minutes=1)) >= ctx.uploads_per_minute
            or ctx.access.count_recent(sid, "upload", now - timedelta(hours=1)) >= ctx.uploads_per_hour):
        ctx.access.record(now, "upload_rate_limited", session=actor.session, ip=actor.ip, unit_code=unit, name=name)
        return JSONResponse({"error": "rate_limited", "message": i18n.t(lang, "rate_limited")}, status_code=429)
    try:
        data = await _body(request)
        upload.sniff(data)
        stored = upload.receive(ctx.s.store, unit, data, name, source="web", received_at=now,
                                meta={"web_session": sid, "unit": unit, "ip": actor.ip})
    except upload.Refused as exc:
        ctx.access.record(now, "upload_refused", session=actor.session, ip=actor.ip, unit_code=unit, name=name,
                          reason=exc.key)
        status = 413 if exc.key == "too_large" else 415
        return JSONResponse({"error": exc.key, "message": i18n.t(lang, exc.key, **exc.detail)}, status_code=status)
    ctx.access.record(now, "upload", session=actor.session, ip=actor.ip, unit_code=unit, name=name,
                      submission_id=stored.submission_id, sha256=stored.sha256, size=stored.size_bytes)
    upload.announce(ctx.s, stored, warm=ctx.answerer is not None)
    if ctx.answerer:
        ctx.answerer.request(stored.submission_id)
    return JSONResponse({"submission_id": stored.submission_id, "url": f"/u/{unit}/s/{stored.submission_id}"},
                        status_code=201)


def _version(ctx, unit: str, sid: str) -> read.Version | None:
    if not SID.fullmatch(sid):
        raise Denied(404, "not_found")
    return next((v for v in read.unit_versions(ctx.s, unit) if v.submission_id == sid), None)


def _stored(ctx, unit: str, sid: str) -> bool:
    return (ctx.s.store / unit / f"{sid}.json").exists()  # the store's record of the submission


@router.get("/u/{unit}/s/{sid}.json")
async def submission_json(request: Request, unit: str, sid: str):
    """Polled while a page waits for its answer: one small file read (the answerer writes a result
    for every upload it is asked about, whoever processed it), never the snapshot."""
    await check(request, unit=unit)
    ctx = request.app.state.ctx
    if not SID.fullmatch(sid):
        raise Denied(404, "not_found")
    r = answer.read_result(ctx.s, unit, sid)
    if r is not None:
        return {"ready": True, "status": r["status"], "version": r["version"], "n_errors": r["n_errors"],
                "n_warnings": r["n_warnings"]}
    if upload.sent_through_web(ctx.s.store, unit, sid):
        return {"ready": False}  # sent through the web: the answerer will write its result
    v = _version(ctx, unit, sid)  # sent another way (inbox, Slack): read from the snapshot
    if v is None:
        if _stored(ctx, unit, sid):
            return {"ready": False}
        raise Denied(404, "not_found")
    return {"ready": True, "status": v.status, "version": v.version, "n_errors": v.n_errors, "n_warnings": v.n_warnings}


@router.get("/u/{unit}/s/{sid}")
async def submission_page(request: Request, unit: str, sid: str):
    actor = await check(request, unit=unit)
    ctx = request.app.state.ctx
    v = _version(ctx, unit, sid)
    if v is None and not _stored(ctx, unit, sid):
        raise Denied(404, "not_found")
    explained = ctx.access.explanations(unit) if v else {}
    return render(request, "submission.html", unit=ctx.catalog.org_units[unit], v=v, sid=sid,
                  explained=explained, can_send=not actor.is_operator, el_names=_element_names(ctx))


@router.get("/u/{unit}/s/{sid}/annotated.xlsx")
async def annotated(request: Request, unit: str, sid: str):
    actor = await check(request, unit=unit)
    ctx = request.app.state.ctx
    v = _version(ctx, unit, sid)
    path = None
    if v is not None:
        folder = ctx.s.feedback / v.period / unit  # the unit's own folder; never a name from the request
        hits = sorted(folder.glob(f"*_kiem_tra_{sid[:8]}.xlsx")) if folder.exists() else []
        path = hits[0] if hits else None
    if path is None:
        raise Denied(404, "not_found")
    ctx.access.record(ctx.now(), "download_annotated", session=actor.session, ip=actor.ip, unit_code=unit,
                      submission_id=sid)
    return FileResponse(path, media_type=XLSX, filename=f"{v.dataset_code}_{unit}_{v.period}_v{v.version}_kiem_tra.xlsx")


@router.post("/u/{unit}/s/{sid}/explain")
async def explain(request: Request, unit: str, sid: str):
    actor = await check(request, unit=unit, write=True)
    ctx = request.app.state.ctx
    form = await form_of(request)
    v = _version(ctx, unit, sid)
    rule, element, text = form.get("rule", ""), form.get("element", ""), form.get("text", "").strip()[:2000]
    if v is None or not text or not any(f["severity"] == "warning" and f["rule_id"] == rule
                                        and f["element_code"] == element for f in v.findings):
        raise Denied(400, "bad_request")
    ctx.access.explain(ctx.now(), actor.session, unit, v.period, v.dataset_code, element, rule, text)
    ctx.access.record(ctx.now(), "explain", session=actor.session, ip=actor.ip, unit_code=unit, submission_id=sid,
                      rule=rule, element=element, text=text)
    return render(request, "submission.html", unit=ctx.catalog.org_units[unit], v=v, sid=sid,
                  explained=ctx.access.explanations(unit), can_send=True, notice="explained",
                  el_names=_element_names(ctx))


def _element_names(ctx) -> dict[str, str]:
    return {code: el.name for code, el in ctx.catalog.elements.items()}
