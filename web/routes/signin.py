"""Opening an access link, signing out, the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from web import auth
from web.app import LANG_COOKIE, render
from web.guard import Denied, actor_of, check

router = APIRouter()


@router.get("/")
async def home(request: Request):
    actor = await check(request)
    target = "/op" if actor.is_operator else f"/u/{actor.unit_code}"
    return RedirectResponse(target, status_code=303)


@router.get("/a/{token}")
async def open_link(request: Request, token: str):
    ctx = request.app.state.ctx
    actor = actor_of(request)
    ip = actor.ip
    session = ctx.access.open_session(token[:100], ctx.now(), ip, request.headers.get("user-agent"))
    if session is None:
        ctx.access.record(ctx.now(), "signin_refused", session=None, ip=ip)
        return render(request, "message.html", status=401, key="link_invalid")
    ctx.access.record(ctx.now(), "signin", session=session, ip=ip, unit_code=session.unit_code)
    response = RedirectResponse("/op" if session.role == "operator" else f"/u/{session.unit_code}", status_code=303)
    response.set_cookie(auth.COOKIE, auth.sign(ctx.secret, session.session_id), httponly=True, samesite="lax",
                        secure=ctx.secure_cookies, max_age=int((session.expires_at - ctx.now()).total_seconds()),
                        path="/")
    return response


@router.post("/signout")
async def signout(request: Request):
    ctx = request.app.state.ctx
    actor = await check(request, write=True)
    ctx.access.end_session(actor.session.session_id, ctx.now())
    ctx.access.record(ctx.now(), "signout", session=actor.session, ip=actor.ip, unit_code=actor.unit_code)
    response = render(request, "message.html", key="signin_needed")
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
async def switch_language(request: Request, lang: str, next: str = "/"):
    if lang not in ("vi", "en"):
        raise Denied(400, "bad_request")
    safe = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(safe, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
