"""Prometheus metrics (prometheus-client). Under `serve --workers N` every process writes its samples to
PROMETHEUS_MULTIPROC_DIR (set by `voronka serve` before the processes start) and a scrape of any process
adds them up; gauges of the database backlog are read at scrape time instead (one truth for all processes).

Business counters (starts, completions, timers, incidents, login failures) are counted from what a commit
actually wrote (`app/observability/facts.py`), so a rolled-back attempt is never counted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("voronka_http_requests_total", "HTTP requests answered, by route template and status.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("voronka_http_request_duration_seconds", "Time to answer an HTTP request.",
                         ["method", "route", "status"], buckets=LATENCY_BUCKETS)
HTTP_IN_PROGRESS = Gauge("voronka_http_requests_in_progress", "Requests being answered now.",
                         multiprocess_mode="livesum")
ENGINE_STEP = Histogram("voronka_engine_step_seconds", "SpiffWorkflow time of one command (start, complete, "
                        "fire timers, deliver a message) including its automatic steps.", buckets=LATENCY_BUCKETS)
INSTANCE_STARTS = Counter("voronka_instance_starts_total", "Process instances started.")
INSTANCES_ENDED = Counter("voronka_instances_ended_total", "Process instances that ended.", ["outcome"])
for _outcome in ("completed", "terminated", "failed"):  # exported at 0 from the start: rates, not gaps
    INSTANCES_ENDED.labels(_outcome)
TASK_COMPLETIONS = Counter("voronka_task_completions_total", "User tasks completed.")
TIMERS_FIRED = Counter("voronka_timers_fired_total", "Timers fired (each once).")
TIMER_LAG = Histogram("voronka_timer_lag_seconds", "How late a timer fired after its due time.",
                      buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0))
INCIDENTS_CREATED = Counter("voronka_incidents_created_total", "Incidents raised (a failed expression, "
                            "a job out of retries, an external task failed for good).")
LOGIN_FAILURES = Counter("voronka_login_failures_total", "Failed sign-ins (wrong password or unknown user).")
POOL_IN_USE = Gauge("voronka_db_pool_connections_in_use", "Database connections checked out of the pools.",
                    multiprocess_mode="livesum")
POOL_CAPACITY = Gauge("voronka_db_pool_connections_max", "Most connections the pools may open (size+overflow).",
                      multiprocess_mode="livesum")


@contextmanager
def engine_step() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        ENGINE_STEP.observe(time.perf_counter() - started)


class BacklogCollector(Collector):
    """Gauges read from the database when scraped; `read` returns name -> (help, value) or raises."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = self.read()
        except Exception:  # the database is away: say so, keep the process metrics
            yield GaugeMetricFamily("voronka_database_up", "1 when the database answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("voronka_database_up", "1 when the database answered this scrape.", value=1)
        for name, (documentation, value) in values.items():
            yield GaugeMetricFamily(name, documentation, value=value)


def render(read_backlog: Callable[[], dict[str, tuple[str, float]]]) -> tuple[bytes, str]:
    """The text exposition of this process (or of all processes in multi-process mode) plus the backlog."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_backlog_registry(read_backlog))
    return body, CONTENT_TYPE_LATEST


def _backlog_registry(read_backlog: Callable[[], dict[str, tuple[str, float]]]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BacklogCollector(read_backlog))
    return registry


def watch_pool(engine: Engine) -> None:
    """Connections in use, updated as they are checked out and in (one pool per process)."""
    pool = engine.pool
    capacity = getattr(pool, "size", lambda: 0)() + max(getattr(pool, "_max_overflow", 0), 0)
    POOL_CAPACITY.inc(capacity)

    def _update(*_args: object) -> None:
        POOL_IN_USE.set(pool.checkedout() if hasattr(pool, "checkedout") else 0)

    event.listen(pool, "checkout", _update)
    event.listen(pool, "checkin", _update)


def forget_dead_processes() -> None:
    """Live gauges of processes that died (a killed uvicorn worker) must not count forever."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
