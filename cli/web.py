"""`baocao web` (the units' and the operator's pages) and `baocao access` (links to sign in).

    baocao access issue --unit LD.24781          # one link per unit (or --all), printed once
    baocao access issue --operator --name "Nguyễn Văn A"
    baocao access revoke --unit LD.24781         # (or --operator, or --token …)
    baocao web --home var/demo --demo           # after `make demo`: prints a unit link and the operator link
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from baocao.settings import settings

HomeOpt = typer.Option(None, "--home", help="Thư mục dữ liệu (mặc định ./var hoặc $BAOCAO_HOME) / data folder.")
BaseOpt = typer.Option(None, "--base-url", help="Địa chỉ trang web / the site's address (default $BAOCAO_WEB_URL"
                                                " or http://127.0.0.1:8000).")
access_app = typer.Typer(help="Đường dẫn truy cập trang web / access links to the web pages.", no_args_is_help=True)


def _store(home):
    from web.access import AccessStore

    return AccessStore(settings(home).home / "web" / "access.sqlite")


def _base(base_url: str | None, port: int = 8000) -> str:
    return (base_url or settings().web_url or f"http://127.0.0.1:{port}").rstrip("/")


def issue_links(home, units: list[str], operator: str | None, days: float, base_url: str) -> list[tuple[str, str]]:
    import catalog

    cat = catalog.load()
    store = _store(home)
    now = datetime.now(UTC)
    out = []
    for code in units:
        if code not in cat.org_units:
            from cli.common import check_unit

            check_unit(code, cat)  # one line: the unit is not in the catalog
        token = store.issue("unit", code, cat.org_units[code].name, now, days)
        out.append((code, f"{base_url}/a/{token}"))
    if operator:
        out.append(("OPERATOR", f"{base_url}/a/{store.issue('operator', None, operator, now, days)}"))
    return out


@access_app.command("issue")
def access_issue(unit: list[str] = typer.Option(None, "--unit", help="Mã đơn vị (lặp lại được) / unit code(s)"),
                 all_units: bool = typer.Option(False, "--all", help="Mọi đơn vị phải báo cáo / every reporting unit"),
                 operator: bool = typer.Option(False, "--operator", help="Đường dẫn cho cán bộ tỉnh / operator link"),
                 name: str = typer.Option("Cán bộ tỉnh", "--name", help="Tên cán bộ (ghi vào nhật ký) / operator's name"),
                 days: float = typer.Option(30, "--days", help="Số ngày hiệu lực / days valid"),
                 base_url: str = BaseOpt, home: Path = HomeOpt) -> None:
    """Cấp đường dẫn truy cập (chỉ hiện một lần) / issue access links (shown once, stored hashed)."""
    import catalog
    from cli.common import check_unit, resolve_home

    for code in unit or []:
        check_unit(code)
    home = resolve_home(home)  # the demo's home after `make demo` (and says so)
    codes = list(unit or [])
    if all_units:
        cat = catalog.load()
        codes = sorted({u.code for d in cat.datasets.values() for u in cat.expected_units(d.code)})
    if not codes and not operator:
        raise typer.BadParameter("--unit, --all hoặc --operator")
    for who, link in issue_links(home, codes, name if operator else None, days, _base(base_url)):
        print(f"{who}\t{link}")


@access_app.command("revoke")
def access_revoke(unit: str = typer.Option(None, "--unit", help="Thu hồi mọi đường dẫn của đơn vị / a unit's links"),
                  operator: bool = typer.Option(False, "--operator", help="Mọi đường dẫn cán bộ / operator links"),
                  token: str = typer.Option(None, "--token", help="Một đường dẫn (phần sau /a/) / one link's token"),
                  home: Path = HomeOpt) -> None:
    """Thu hồi đường dẫn (các phiên đang mở cũng hết hiệu lực) / revoke links and the sessions they opened."""
    if not (unit or operator or token):
        raise typer.BadParameter("--unit, --operator hoặc --token")
    token = token.rsplit("/a/", 1)[-1] if token else None
    n = _store(home).revoke(datetime.now(UTC), unit_code=unit, operator=operator, token=token)
    print(f"Đã thu hồi {n} đường dẫn / revoked {n} links")


@access_app.command("list")
def access_list(home: Path = HomeOpt) -> None:
    """Các đường dẫn đã cấp (không hiện mã) / issued links (without their tokens)."""
    for r in _store(home).links():
        state = "revoked" if r["revoked_at"] else ("expired" if r["expires_at"] < datetime.now(UTC).isoformat() else "active")
        print(f"{r['role']}\t{r['unit_code'] or ''}\t{r['label']}\t{r['expires_at']}\t{state}")


def demo_unit(home) -> str | None:
    """A unit of the demo worth opening: one whose 2026H1 report was rejected."""
    import duckdb

    snap = settings(home).snapshot
    if not snap.exists():
        return None
    con = duckdb.connect(str(snap), read_only=True)
    try:
        row = con.execute("""select unit_code from marts.reporting_completeness where last_status = 'rejected'
                             and dataset_code like 'XA_%' order by unit_code limit 1""").fetchone()
    finally:
        con.close()
    return row[0] if row else None


def web(home: Path = HomeOpt,
        host: str = typer.Option("127.0.0.1", help="Địa chỉ lắng nghe / listen address."),
        port: int = typer.Option(8000, help="Cổng / port."),
        demo: bool = typer.Option(False, "--demo", help="In đường dẫn của một đơn vị và của cán bộ tỉnh"
                                                        " / print a unit link and the operator link first."),
        base_url: str = BaseOpt) -> None:
    """Trang web cho đơn vị và cán bộ tỉnh / the units' and the operator's web pages."""
    import uvicorn

    from cli.common import resolve_home
    from web.app import create_app

    home = resolve_home(home)  # the demo's home after `make demo` (and says so)
    s = settings(home)
    if demo:
        unit = demo_unit(home) or "LD.24781"
        for who, link in issue_links(home, [unit], "Cán bộ tỉnh (demo)", 7, _base(base_url, port)):
            print(f"{'Đơn vị / unit ' + who if who != 'OPERATOR' else 'Cán bộ tỉnh / operator'}: {link}", flush=True)
    app = create_app(s.home)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def start_web(api_url: str, home: Path, port: int, limit: str | None, env: dict | None = None, say=print) -> list:
    """`baocao web` as a child of `baocao serve`: its answerer takes the same warehouse limit as the
    flows and the watcher (BAOCAO_WAREHOUSE_LIMIT) and sends its events to the same server. A port
    already taken is reported and the rest of serve runs without the web pages."""
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            say(f"Cổng {port} đang bận: không chạy trang web / port {port} is taken: no web pages (--web-port)")
            return []

    from cli.procs import ROOT, child_env

    env = env or child_env()
    env.update({"PREFECT_API_URL": api_url, "BAOCAO_HOME": str(home)})
    if limit:
        env["BAOCAO_WAREHOUSE_LIMIT"] = limit
    say(f"Trang web / web pages: http://127.0.0.1:{port} (baocao access issue …)")
    return [subprocess.Popen([sys.executable, "-c", "from cli.app import app; app()", "web", "--home", str(home),
                              "--port", str(port)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL)]
