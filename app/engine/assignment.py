"""Who a user task goes to, when it is due and how urgent, from the model's (possibly dynamic) attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.expressions import evaluate, is_expression_text
from app.engine.expressions_runtime import Limits
from app.errors import ExpressionFailed


@dataclass
class Assignment:
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    assignee: str | None = None
    due_at: datetime | None = None
    priority: int = 50


def resolve_assignment(extensions: Mapping[str, Any], data: Mapping[str, Any], *, limits: Limits,
                       now: datetime) -> Assignment:
    return Assignment(
        candidate_groups=_names(_value(extensions.get("candidate_groups"), data, limits)),
        candidate_users=_names(_value(extensions.get("candidate_users"), data, limits)),
        assignee=_single(_value(extensions.get("assignee"), data, limits)),
        due_at=_due(_value(extensions.get("due_date"), data, limits), now),
        priority=_priority(_value(extensions.get("priority"), data, limits)),
    )


def _value(raw: Any, data: Mapping[str, Any], limits: Limits) -> Any:
    if isinstance(raw, str) and is_expression_text(raw):
        return evaluate(raw, data, limits=limits)
    return raw


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple | set) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _single(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _due(value: Any, now: datetime) -> datetime | None:
    """An ISO date-time, or an ISO duration counted from the task's creation."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        if text.upper().startswith("P"):
            duration = TimerEventDefinition.parse_iso_duration(text)
            return now + TimerEventDefinition.get_timedelta_from_start(duration, now)
        return TimerEventDefinition.get_datetime(text)
    except (ValueError, TypeError) as exc:
        raise ExpressionFailed(f"due date {text!r} is neither an ISO 8601 date-time nor a duration",
                               expression=text) from exc


def _priority(value: Any) -> int:
    if value in (None, ""):
        return 50
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ExpressionFailed(f"priority {value!r} is not a whole number", expression=str(value)) from exc
