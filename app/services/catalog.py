"""Light lookups of what is deployed, for lists and filters: names only, never the XML or the parsed spec."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import ProcessDefinition
from app.services.context import AppContext


def names_in(session: Session, keys: Iterable[str] | None = None) -> dict[str, str]:
    """Process key -> the name of its latest version (all keys, or only `keys`), ordered by name."""
    query = select(ProcessDefinition.key, ProcessDefinition.name).order_by(ProcessDefinition.version)
    if keys is not None:
        query = query.where(ProcessDefinition.key.in_(set(keys)))
    names = dict(session.execute(query).all())  # later versions overwrite earlier ones
    return dict(sorted(names.items(), key=lambda item: (item[1].lower(), item[0])))


def process_names(ctx: AppContext, *, actor: Actor) -> dict[str, str]:
    with ctx.db.read() as session:
        return names_in(session)
