"""After a migration, the open tasks of an instance read as the new version defines them: name, lane, form,
marks, candidates and due date (counted from when the task opened). Who holds a claimed task keeps it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import CandidateKind, ProcessInstance, Task, TaskCandidate, TaskState
from app.engine.assignment import resolve_assignment
from app.engine.runner import Step
from app.errors import ExpressionFailed


def reproject_open_tasks(session: Session, instance: ProcessInstance, step: Step, *, limits: Any) -> None:
    by_id = {t.id: t for t in step.user_tasks}
    for row in session.scalars(select(Task).where(Task.instance_id == instance.id, Task.state == TaskState.OPEN)):
        task = by_id.get(row.id)
        if task is None:
            continue
        ext = task.extensions
        properties = dict(ext.get("properties") or {})
        row.element_id, row.name, row.lane = task.element_id, task.name, task.lane
        row.documentation = task.documentation or ext.get("documentation")
        row.form = list(ext.get("form_fields") or [])
        row.properties = properties
        row.funnel_stage, row.work_kind = properties.get("funnel_stage"), properties.get("work_kind")
        try:
            assignment = resolve_assignment(ext, task.data, limits=limits, now=row.created_at)
        except ExpressionFailed:
            continue  # the old assignment stays; the next step of the instance reports the expression
        row.due_at, row.priority = assignment.due_at, assignment.priority
        row.assignee = row.assignee or assignment.assignee
        wanted = [(CandidateKind.GROUP, g) for g in dict.fromkeys(assignment.candidate_groups)] + [
            (CandidateKind.USER, u) for u in dict.fromkeys(assignment.candidate_users)]
        have = {(c.kind, c.name): c for c in row.candidates}
        for key, candidate in have.items():
            if key not in wanted:
                row.candidates.remove(candidate)
        row.candidates.extend(TaskCandidate(kind=kind, name=name) for kind, name in wanted if (kind, name) not in have)
