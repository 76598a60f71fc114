"""What analytics needs recorded as a deal moves: its lead attributes and its stays in funnel stages.

Called by services.recording inside the transaction of every step, so the figures never lag the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Job, JobKind, ProcessDefinition, ProcessInstance, StageVisit
from app.engine.runner import Step
from app.services.analytics.model_map import MODEL_MAPS

# Instance column -> (variable name, column length). The sales models' forms set these variables.
DEAL_FIELDS = {"source": 64, "segment": 64, "category": 64, "lost_reason": 500}


def capture_deal_fields(instance: ProcessInstance, data: Mapping[str, Any]) -> None:
    """Copy lead source, segment, category and the reason a deal was lost onto the instance row."""
    for name, length in DEAL_FIELDS.items():
        value = data.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()[:length]
            if getattr(instance, name) != text:
                setattr(instance, name, text)


def reached_service_stages(session: Session, instance: ProcessInstance, step: Step, jobs: list[Job]) -> list[str]:
    """Stages of external service tasks the deal has just reached: like a new user task, reaching one puts
    the deal in its stage (the invoice is being made), while a waiting catch event counts only once it fires."""
    known = {j.task_id for j in jobs if j.kind == JobKind.EXTERNAL}
    new = [e.element_id for e in step.external_tasks if e.task_id not in known]
    if not new:
        return []
    model = MODEL_MAPS.peek(instance.definition_id)
    if model is None:
        xml = session.scalar(select(ProcessDefinition.xml).where(ProcessDefinition.id == instance.definition_id))
        model = MODEL_MAPS.get(instance.definition_id, xml, instance.definition_key)
    stages = [model.elements[e].stage for e in new if e in model.elements]
    return [s for s in stages if s]


def track_stages(session: Session, instance: ProcessInstance, before: str | None, passed: Iterable[str],
                 *, at: datetime, ended: bool) -> None:
    """Close the open stay and open one per stage entered in this step (a stage passed without waiting gets a
    zero-length stay, so it still counts as reached); an ended deal leaves its last stage."""
    sequence: list[str] = []
    current = before
    for stage in passed:
        if stage and stage != current:
            sequence.append(stage)
            current = stage
    if not sequence and not ended:
        return
    open_visit = session.scalar(select(StageVisit).where(StageVisit.instance_id == instance.id,
                                                         StageVisit.left_at.is_(None)))
    if open_visit is not None and (sequence or ended):
        open_visit.left_at = at
    for index, stage in enumerate(sequence):
        last = index == len(sequence) - 1
        session.add(StageVisit(instance_id=instance.id, stage=stage, entered_at=at,
                               left_at=None if last and not ended else at))
