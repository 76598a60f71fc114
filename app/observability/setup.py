"""What every long-running process (server, `voronka worker`) does once at start-up to be observable."""

from __future__ import annotations

from sqlalchemy import Engine

from app.observability import facts, metrics


def instrument(engine: Engine) -> None:
    facts.install()
    metrics.forget_dead_processes()
    metrics.watch_pool(engine)
