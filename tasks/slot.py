"""One slot of a Prefect global concurrency limit, held with a lease (tasks.cycle.warehouse_lock).

Prefect's `concurrency()` does the same three calls (increment-with-lease, renew, release), but on
a SQLite-backed server under load each costs seconds:

- a write that meets SQLite's writer lock gets a 503 ("database is locked"), and Prefect's client
  waits 2**n seconds before trying again (2, 4, 8, 16, 32 s; after five the call fails): a slot
  cost ~2.2 s, a release once took 59 s, and an acquire that failed five times left the web
  answerer's pending files unanswered (the burst "stall", bench/README.md);
- its lease-renewal thread renews at once, and leaving the block waits up to 2 s for it.

Here a 503 (or a dropped connection) is retried after 0.05 s, doubling to at most 1 s, for as
long as it takes (acquire) or for `RELEASE_PATIENCE_S` (release; after that the lease expires on
its own after `lease_duration`); a 423 (slot taken) waits what the server says, at most 1 s. The
lease is renewed only when three quarters of it have passed, by a thread that never delays the
release. One holder at a time, across hosts, is still the server's decision.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

log = logging.getLogger("baocao.slot")

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0
RELEASE_PATIENCE_S = 60.0
RETRYABLE = {502, 503, 504}


def _client():
    """Prefect's sync client (a context manager)."""
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _retrying(call, what: str, patience_s: float | None = None):
    """call() until it returns, with Prefect's client retries off for the call only (this module
    retries, with short waits): 423 waits the server's Retry-After (≤ 1 s); 5xx and connection
    errors wait 0.05 s doubling to 1 s. Raises the last error once `patience_s` has passed."""
    import httpx
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    wait, start, tries = RETRY_FIRST_S, time.monotonic(), 0
    while True:
        try:
            with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
                return call()
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            if code == 423:
                try:
                    pause = min(float(exc.response.headers.get("Retry-After", RETRY_MAX_S)), RETRY_MAX_S)
                except ValueError:
                    pause = RETRY_MAX_S
            elif code in RETRYABLE:
                pause, wait = wait, min(wait * 2, RETRY_MAX_S)
            else:
                raise
        except (httpx.TransportError, OSError):
            pause, wait = wait, min(wait * 2, RETRY_MAX_S)
        tries += 1
        if patience_s is not None and time.monotonic() - start + pause > patience_s:
            raise TimeoutError(f"{what}: no answer from the Prefect API after {tries} tries")
        if tries in (20, 100, 500):
            log.warning("%s: still waiting after %d tries (%.0f s)", what, tries, time.monotonic() - start)
        time.sleep(pause)


def _renew_until(stop: threading.Event, lease_id, lease_duration: float) -> None:
    while not stop.wait(lease_duration * 0.75):
        try:
            with _client() as client:
                _retrying(lambda c=client: c.renew_concurrency_lease(lease_id=lease_id, lease_duration=lease_duration),
                          "renewing the slot's lease", patience_s=lease_duration * 0.2)
        except Exception:
            if not stop.is_set():  # released meanwhile: nothing to renew
                log.exception("could not renew the lease %s: the slot may be given to another holder", lease_id)
            return


@contextlib.contextmanager
def hold(name: str, lease_duration: float = 120.0) -> Iterator[bool]:
    """Hold one slot of the limit `name` (waiting for it); yields False when no such limit exists
    (then nothing is held, as Prefect's concurrency() does without strict)."""
    with _client() as client:
        response = _retrying(
            lambda: client.increment_concurrency_slots_with_lease(
                names=[name], slots=1, mode="concurrency", lease_duration=lease_duration),
            f"taking a slot of {name}")
        body = response.json()
        if not body.get("limits"):
            log.warning("concurrency limit %s does not exist: running without it", name)
            yield False
            return
        lease_id = body["lease_id"]
        stop = threading.Event()
        renewer = threading.Thread(target=_renew_until, args=(stop, lease_id, lease_duration), daemon=True,
                                   name=f"baocao-slot-lease-{lease_id}")
        renewer.start()
        try:
            yield True
        finally:
            stop.set()
            try:
                _retrying(lambda: client.release_concurrency_slots_with_lease(lease_id=lease_id),
                          f"releasing the slot of {name}", patience_s=RELEASE_PATIENCE_S)
            except Exception:
                log.exception("could not release the lease %s of %s: it expires in %.0f s", lease_id, name,
                              lease_duration)
