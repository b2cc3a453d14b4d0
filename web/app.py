"""The app factory: `create_app(home)` → a FastAPI app with server-rendered pages.

Everything the routes need hangs on `app.state.ctx` (settings, catalog, access store, secret,
answerer, clock), so tests build an app on a temporary home with a fake clock and no patching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from baocao.settings import Settings, settings
from web import auth, i18n
from web.access import AccessStore
from web.answer import Answerer
from web.guard import Denied, actor_of

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "baocao_lang"


@dataclass
class Context:
    s: Settings
    catalog: object
    access: AccessStore
    secret: bytes
    answerer: Answerer | None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    uploads_per_minute: int = 10
    uploads_per_hour: int = 60
    secure_cookies: bool = False


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(num=i18n.num, pct=i18n.pct, when=i18n.when, day=i18n.day,
                       datetime_from_ts=lambda ts: datetime.fromtimestamp(ts, UTC))
    return env


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE)
    return lang if lang in i18n.LANGS else "vi"


def render(request: Request, name: str, status: int = 200, **data) -> HTMLResponse:
    lang = lang_of(request)
    actor = actor_of(request)
    ctx: Context = request.app.state.ctx
    csrf = auth.csrf_token(ctx.secret, actor.session.session_id) if actor.session else ""
    html = request.app.state.jinja.get_template(name).render(
        request=request, lang=lang, t=lambda key, **kw: i18n.t(lang, key, **kw), actor=actor, csrf=csrf,
        path=request.url.path, **data)
    return HTMLResponse(html, status_code=status)


def create_app(home: str | Path | None = None, *, now: Callable[[], datetime] | None = None,
               answerer: bool = True, refresh: bool = True, uploads_per_minute: int = 10) -> FastAPI:
    import catalog

    s = settings(home)
    web_dir = s.home / "web"
    ctx = Context(s=s, catalog=catalog.load(), access=AccessStore(web_dir / "access.sqlite"),
                  secret=auth.load_secret(web_dir), answerer=Answerer(s, refresh=refresh) if answerer else None,
                  uploads_per_minute=uploads_per_minute)
    if now is not None:
        ctx.now = now

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if ctx.answerer:
            ctx.answerer.start()
        yield
        if ctx.answerer:
            ctx.answerer.stop()

    app = FastAPI(title="baocao", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.jinja = environment()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
                                    " frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")  # "no-referrer" makes POSTs send Origin: null
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied):
        if request.url.path.endswith(".json") or request.headers.get("accept", "").startswith("application/json"):
            lang = lang_of(request)
            return JSONResponse({"error": exc.key, "message": exc.detail or i18n.t(lang, exc.key)}, status_code=exc.status)
        return render(request, "message.html", status=exc.status, key=exc.key, detail=exc.detail)

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return render(request, "message.html", status=404, key="not_found")

    from web.routes import operator, signin, unit

    app.include_router(signin.router)
    app.include_router(unit.router)
    app.include_router(operator.router)
    return app
