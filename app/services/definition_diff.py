"""What changed between two versions of one process key (added, removed and changed elements)."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.actor import Actor
from app.db.models import ProcessDefinition
from app.engine.spec_diff import SpecChanges, compare, elements
from app.errors import InvalidInput, NotFound
from app.services.context import AppContext


def diff_versions(ctx: AppContext, *, actor: Actor, key: str, from_version: int | None = None,
                  to_version: int | None = None) -> tuple[ProcessDefinition, ProcessDefinition, SpecChanges]:
    """`to` defaults to the newest version, `from` to the one before it."""
    with ctx.db.read() as session:
        versions = list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                        .order_by(ProcessDefinition.version.desc())))
        if not versions:
            raise NotFound(f"no process definition with key {key!r}")
        by_version = {d.version: d for d in versions}
        to_version = to_version if to_version is not None else versions[0].version
        from_version = from_version if from_version is not None else to_version - 1
        for name, number in (("from", from_version), ("to", to_version)):
            if number not in by_version:
                raise InvalidInput(f"{key!r} has no version {number} (parameter {name!r}); versions: "
                                   f"{', '.join(str(v) for v in sorted(by_version))}")
        old, new = by_version[from_version], by_version[to_version]
        old_runtime = ctx.runtimes.get(session, old.id)
        new_runtime = ctx.runtimes.get(session, new.id)
    changes = compare(elements(old_runtime.spec, old_runtime.subprocess_specs),
                      elements(new_runtime.spec, new_runtime.subprocess_specs))
    return old, new, changes
