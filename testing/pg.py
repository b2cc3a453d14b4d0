"""A throw-away PostgreSQL cluster for the Prefect server (tests, the benchmark, a trial run).

Prefect's default database is SQLite in PREFECT_HOME. Under event-driven load (a flow run per
submission, workers' heartbeats, automations) its single writer makes the server's own background
work wait for the lock: the benchmark saw `mark_work_queues_ready` blocked 60 s, and every API
write with it. Production runs the server on PostgreSQL (docs/operations.md); this starts one
from Debian's `postgresql` binaries on a free port, owned by user `postgres` when run as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL cannot run here; the message says why."""


def bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@contextlib.contextmanager
def cluster(port: int | None = None, database: str = "prefect") -> Iterator[str]:
    """Start a cluster, yield PREFECT_API_DATABASE_CONNECTION_URL for `database`, stop and delete it."""
    from cli.procs import free_port

    bins = bindir()
    if bins is None:
        raise Unavailable("PostgreSQL server binaries not installed (apt-get install postgresql)")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser: cannot start PostgreSQL as user postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data = Path(tempfile.mkdtemp(prefix="baocao-pg-"))
    if as_root:
        shutil.chown(data, "postgres")
    port = port or free_port()

    def pg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, str(bins / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=60, check=check)

    try:
        pg("initdb", "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        pg("pg_ctl", "-D", str(data / "db"), "-w", "-l", str(data / "log"),
           "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(data, ignore_errors=True)
        raise Unavailable(f"PostgreSQL did not start: {getattr(exc, 'stderr', exc)}") from exc
    try:
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database)
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"
    finally:
        pg("pg_ctl", "-D", str(data / "db"), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)
