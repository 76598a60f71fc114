"""What the diagram script needs: where the XML is and which elements to mark (done, active, this one, failed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.db.models import HistoryEvent, Incident, Task
from app.ui.funnel import COMPLETED_KINDS
from app.ui.security import UI_PREFIX


@dataclass
class DiagramView:
    key: str
    version: int
    completed: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def xml_url(self) -> str:
        return f"{UI_PREFIX}/models/{self.key}/{self.version}.bpmn"

    @property
    def has_marks(self) -> bool:
        return bool(self.completed or self.active or self.selected or self.failed)

    @property
    def marks_json(self) -> str:
        return json.dumps({"completed": self.completed, "active": self.active, "selected": self.selected,
                           "failed": self.failed})


def instance_diagram(key: str, version: int, *, history: Iterable[HistoryEvent], open_tasks: Iterable[Task],
                     incidents: Iterable[Incident] = (), selected: str | None = None) -> DiagramView:
    completed = dict.fromkeys(e.element_id for e in history if e.element_id and e.kind in COMPLETED_KINDS)
    active = dict.fromkeys(t.element_id for t in open_tasks)
    failed = dict.fromkeys(i.element_id for i in incidents if i.element_id and i.resolved_at is None)
    return DiagramView(key, version, completed=list(completed), active=list(active),
                       selected=[selected] if selected else [], failed=list(failed))
