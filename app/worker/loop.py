"""The job worker loop: claim due jobs, run each in its own transaction, sleep until the next is due.

Any number of loops may run against one database (threads, `voronka worker` processes, embedded in
`voronka serve`): claiming is a short transaction with FOR UPDATE SKIP LOCKED on PostgreSQL, and each job is
fired exactly once (see app/services/jobs.py). Idle loops back off up to `worker_poll_seconds`, but never
sleep past the nearest due time; a little jitter keeps several workers from waking in lockstep.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import Counter

from app.db.base import utcnow
from app.errors import Unavailable
from app.services import jobs, lead_import_jobs, migrations
from app.services.context import AppContext
from app.worker import handlers, recovery

log = logging.getLogger(__name__)

MIN_SLEEP = 0.02


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Worker:
    def __init__(self, ctx: AppContext, *, worker_id: str | None = None, batch_size: int | None = None,
                 stop_event: threading.Event | None = None, recovery_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size or ctx.settings.worker_batch_size
        self.stop_event = stop_event or threading.Event()
        self.recovery_seconds = recovery_seconds or max(ctx.settings.job_lock_seconds / 2, 1.0)
        self.counts: Counter[str] = Counter()
        self._last_recovery = 0.0

    def request_stop(self) -> None:
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def run_once(self) -> int:
        """Claim one batch of due jobs and run them; returns how many were claimed. Jobs left when a stop is
        requested are released, so other workers take them at once instead of after the lock expires."""
        claimed = jobs.claim_due_jobs(self.ctx, owner=self.worker_id, limit=self.batch_size)
        for index, job in enumerate(claimed):
            if self.stopping:
                rest = [j.id for j in claimed[index:]]
                released = jobs.release_jobs(self.ctx, job_ids=rest, owner=self.worker_id)
                log.info("worker %s stopping: released %d claimed job(s)", self.worker_id, released)
                break
            self.counts[handlers.handle(self.ctx, job, owner=self.worker_id)] += 1
        if self.stopping:
            return len(claimed)
        migrated = migrations.run_pending(self.ctx, limit=self.batch_size)  # running deals moved to a new version
        self.counts["migrated"] += migrated
        # Lead imports run in slices between timer batches, so a big import never holds up due timers.
        imported = lead_import_jobs.run_slice(self.ctx, owner=self.worker_id)
        self.counts["lead_rows"] += imported
        return len(claimed) + migrated + imported

    def run_until_idle(self, *, max_batches: int = 1000) -> int:
        """Run batches until nothing is due (tests and the CLI's --once)."""
        total = 0
        for _ in range(max_batches):
            claimed = self.run_once()
            total += claimed
            if claimed == 0:
                break
        return total

    def run(self) -> None:
        log.info("worker %s started (batch %d)", self.worker_id, self.batch_size)
        idle = 0
        while not self.stopping:
            try:
                self._maybe_recover()
                claimed = self.run_once()
            except Unavailable as exc:  # the database is away: wait and try again, quietly
                log.warning("worker %s: %s", self.worker_id, exc.detail)
                self.stop_event.wait(self.ctx.settings.worker_poll_seconds)
                continue
            except Exception:
                log.exception("worker %s: claiming jobs failed", self.worker_id)
                self.stop_event.wait(self.ctx.settings.worker_poll_seconds)
                continue
            if claimed:
                idle = 0
                if claimed >= self.batch_size:
                    continue  # more may be due right now
            else:
                idle += 1
            self.stop_event.wait(self._pause(idle))
        log.info("worker %s stopped (%s)", self.worker_id, dict(self.counts))

    def _pause(self, idle: int) -> float:
        """Back off while idle, but wake for the nearest due job; jitter spreads several workers."""
        pause = min(MIN_SLEEP * (2 ** min(idle, 16)), self.ctx.settings.worker_poll_seconds)
        try:
            nearest = jobs.next_due_at(self.ctx)
        except Exception:
            log.exception("worker %s: reading the next due time failed", self.worker_id)
            nearest = None
        if nearest is not None:
            pause = min(pause, (nearest - utcnow()).total_seconds())
        return max(pause, MIN_SLEEP) + random.uniform(0, MIN_SLEEP)

    def _maybe_recover(self) -> None:
        now = time.monotonic()
        if now - self._last_recovery >= self.recovery_seconds:
            self._last_recovery = now
            recovery.recover(self.ctx)


class WorkerThread:
    """One worker loop in a background thread: the embedded mode of `voronka serve`."""

    def __init__(self, ctx: AppContext, **kwargs: object) -> None:
        self.worker = Worker(ctx, **kwargs)  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.worker.run, name="voronka-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.request_stop()
        self.thread.join(timeout)
        if self.thread.is_alive():
            log.warning("worker thread did not stop within %.0f s; its locks will expire", timeout)
