"""The one check every route calls: who is asking, may they see or change this unit's data, and (for a
change) does the request carry the session's CSRF token from this site.

    actor = await check(request)                          # any signed-in session
    actor = await check(request, unit=code)               # this unit's own session, or the operator (read)
    actor = await check(request, unit=code, write=True)   # this unit's own session only, with CSRF
    actor = await check(request, operator=True, write=True)
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import Request

from web import auth


class Denied(Exception):
    def __init__(self, status: int, key: str, detail: str | None = None):
        super().__init__(key)
        self.status = status
        self.key = key  # a message id in web.i18n
        self.detail = detail  # our own one-line explanation (e.g. why a decision was refused), shown as text


def actor_of(request: Request) -> auth.Actor:
    """The request's session (or none) and its client address; cached on the request."""
    if hasattr(request.state, "actor"):
        return request.state.actor
    ctx = request.app.state.ctx
    sid = auth.unsign(ctx.secret, request.cookies.get(auth.COOKIE))
    session = ctx.access.session(sid, ctx.now()) if sid else None
    request.state.actor = auth.Actor(session, request.client.host if request.client else None)
    return request.state.actor


MAX_FORM = 64 * 1024


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form (the only kind our forms post), bounded in size."""
    if hasattr(request.state, "form"):
        return request.state.form
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise Denied(413, "form_too_large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    request.state.form = {k: v[0] for k, v in fields.items()}
    return request.state.form


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # no header (old browsers, scripts): the CSRF token decides
    o = urlsplit(origin)
    return f"{o.scheme}://{o.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


async def check(request: Request, unit: str | None = None, *, operator: bool = False,
                write: bool = False) -> auth.Actor:
    ctx = request.app.state.ctx
    actor = actor_of(request)
    if actor.session is None:
        raise Denied(401, "signin_needed")
    if operator and not actor.is_operator:
        raise Denied(403, "operator_only")
    if unit is not None:
        if actor.is_operator:
            if write:
                raise Denied(403, "unit_only")  # the operator reads a unit's page; only the unit sends
        elif actor.unit_code != unit:
            raise Denied(403, "other_unit")
        if unit not in ctx.catalog.org_units:
            raise Denied(404, "unknown_unit")
    if write:
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            token = (await form_of(request)).get("csrf")
        if not _same_origin(request) or not auth.csrf_ok(ctx.secret, actor.session.session_id, token):
            raise Denied(403, "csrf")
    return actor
