"""A second "host" for tests: a Linux network namespace joined to this one by a veth pair.

    ns = Netns.create()            # pytest.skip-worthy NetnsUnavailable if it cannot be made
    ns.host_addr, ns.ns_addr       # 10.a.b.1 here, 10.a.b.2 inside; loopbacks are separate
    proc = spawn(ns.exec(*cmd), log, env=…)   # a process "on the other host", own process group
    stop_group(proc); ns.delete()  # kills whatever still runs inside, removes namespace and veth

Processes inside share this machine's files and users; only the network is separate: 127.0.0.1
inside is the namespace's own loopback, and this host is reached through its veth address only.
Used by tests/test_remote_worker.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class NetnsUnavailable(Exception):
    """Why no network namespace can be made here (the reason a test skips with)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and out.returncode != 0:
        raise subprocess.CalledProcessError(out.returncode, out.args, out.stdout, out.stderr)
    return out


def _used_prefixes() -> set[str]:
    out = _ip("-o", "-4", "addr", "show", check=False).stdout + _ip("-4", "route", check=False).stdout
    return {w.rsplit(".", 1)[0] for w in out.replace("/", " ").split() if w.count(".") == 3}


def _taken_names() -> set[str]:
    """Existing namespace and link names."""
    names = {line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines() if line.strip()}
    for line in _ip("-o", "link", check=False).stdout.splitlines():
        parts = line.split(":", 2)
        if len(parts) > 1:
            names.add(parts[1].strip().split("@")[0])
    return names


@dataclass
class Netns:
    name: str
    host_if: str
    ns_if: str
    host_addr: str
    ns_addr: str

    @classmethod
    def create(cls, tag: str | None = None) -> Netns:
        """Make namespace `bc<tag>` (default: this pid) with veth `bch<tag>` (here, .1/24) and
        `bcn<tag>` (inside, .2/24) on an unused 10.x.y.0/24; lo is brought up inside."""
        if shutil.which("ip") is None:
            raise NetnsUnavailable("no `ip` binary (iproute2) on PATH")
        tag = tag or str(os.getpid())
        taken = _taken_names()
        base, suffixes = tag, iter("abcdefghij")
        while {f"bc{tag}", f"bch{tag}"} & taken:  # left by a killed run whose pid was ours: another name
            tag = base + next(suffixes)
        used = _used_prefixes()
        seed = int(base) if base.isdigit() else sum(map(ord, base))
        for i in range(200):
            n = seed + i
            prefix = f"10.{200 + n % 50}.{(n // 50) % 256}"
            if prefix not in used:
                break
        else:  # pragma: no cover
            raise NetnsUnavailable("no free 10.x.y.0/24 for the veth pair")
        ns = cls(f"bc{tag}", f"bch{tag}", f"bcn{tag}", f"{prefix}.1", f"{prefix}.2")
        try:
            _ip("netns", "add", ns.name)
        except subprocess.CalledProcessError as exc:
            raise NetnsUnavailable(
                f"`ip netns add {ns.name}` failed (uid {os.geteuid()}; needs CAP_SYS_ADMIN and CAP_NET_ADMIN, "
                f"i.e. root outside a restricted container): {exc.stderr.strip()}"
            ) from None
        try:
            _ip("link", "add", ns.host_if, "type", "veth", "peer", "name", ns.ns_if)
            _ip("link", "set", ns.ns_if, "netns", ns.name)
            _ip("addr", "add", f"{ns.host_addr}/24", "dev", ns.host_if)
            _ip("link", "set", ns.host_if, "up")
            inside = ("netns", "exec", ns.name, "ip")
            _ip(*inside, "addr", "add", f"{ns.ns_addr}/24", "dev", ns.ns_if)
            _ip(*inside, "link", "set", ns.ns_if, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except subprocess.CalledProcessError as exc:
            ns.delete()
            raise NetnsUnavailable(f"veth set-up failed ({' '.join(exc.cmd)}): {exc.stderr.strip()}") from None
        return ns

    def exec(self, *cmd: str) -> list[str]:
        """The command line that runs `cmd` inside the namespace (`ip netns exec` execs it: the
        process keeps its pid and process group)."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def pids(self) -> list[int]:
        out = _ip("netns", "pids", self.name, check=False)
        return [int(p) for p in out.stdout.split()] if out.returncode == 0 else []

    def inode(self) -> int:
        """The namespace's inode: what /proc/<pid>/ns/net of a process inside points to."""
        return os.stat(f"/run/netns/{self.name}").st_ino

    def connect(self, targets: list[tuple[str, int]], timeout: float = 3.0) -> dict[str, str]:
        """From inside: try a TCP connection to each (host, port); "ok" or the error."""
        code = (
            "import json, socket, sys\n"
            "out = {}\n"
            "for h, p in json.loads(sys.argv[1]):\n"
            "    try:\n"
            f"        socket.create_connection((h, p), timeout={timeout}).close(); out[f'{{h}}:{{p}}'] = 'ok'\n"
            "    except OSError as e:\n"
            "        out[f'{h}:{p}'] = f'{type(e).__name__}: {e}'\n"
            "print(json.dumps(out))\n"
        )
        cmd = self.exec(sys.executable, "-c", code, json.dumps(targets))
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(run.stdout)

    def kill_all(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL, every process still inside (only what the tests started)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + grace
            while pids and time.monotonic() < end:
                time.sleep(0.2)
                pids = self.pids()
            if not pids:
                return

    def delete(self) -> list[str]:
        """Kill what runs inside, delete the namespace and the veth pair; what could not be removed."""
        self.kill_all()
        _ip("netns", "del", self.name, check=False)
        if _ip("link", "show", self.host_if, check=False).returncode == 0:
            _ip("link", "del", self.host_if, check=False)  # the peer inside goes with it
        left = []
        if self.name in _ip("netns", "list", check=False).stdout.split():
            left.append(f"netns {self.name}")
        if _ip("link", "show", self.host_if, check=False).returncode == 0:
            left.append(f"link {self.host_if}")
        return left


# --------------------------------------------------------------------------- process groups


def spawn(cmd: list[str], log: Path, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    """Start `cmd` in its own session (its own process group), output to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process group started by `spawn` and to every descendant (a child may
    have made its own session, as Prefect's flow-run processes do); SIGKILL what is left after
    `grace` seconds; reap."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        targets = _descendants(proc.pid)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if not _alive_group(proc.pid) and not any(_alive(p) for p in targets):
            return


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _alive_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def tail(log: Path, n: int = 40) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
