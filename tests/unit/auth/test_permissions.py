"""The task rules in isolation: who may read, work and act on a task."""

from __future__ import annotations

import pytest

from app.auth.actor import Actor
from app.auth.permissions import (
    may_read_task,
    may_start,
    may_work_task,
    require_task_actionable,
    require_task_readable,
)
from app.db.models import ProcessDefinition, Task, TaskCandidate
from app.errors import Forbidden, NotFound

HUNTER = Actor("hanna", frozenset({"hunter"}))
OTHER_HUNTER = Actor("igor", frozenset({"hunter"}))
CLOSER = Actor("kolya", frozenset({"closer"}))
ACCOUNTING = Actor("anna", frozenset({"accounting"}))
HEAD = Actor("boss", frozenset({"head_of_sales"}))
ADMIN = Actor("root", frozenset({"admin"}))


def task(*, groups: tuple[str, ...] = ("closer",), users: tuple[str, ...] = (), assignee: str | None = None,
         state: str = "open", completed_by: str | None = None) -> Task:
    candidates = [TaskCandidate(kind="group", name=g) for g in groups]
    candidates += [TaskCandidate(kind="user", name=u) for u in users]
    return Task(id="t1", assignee=assignee, state=state, completed_by=completed_by, candidates=candidates)


def test_unassigned_task_is_worked_by_its_groups_and_named_users_only() -> None:
    closer_task = task(users=("anna",))
    assert may_work_task(CLOSER, closer_task) and may_read_task(CLOSER, closer_task)
    assert may_work_task(ACCOUNTING, closer_task)  # named as a candidate user
    assert not may_work_task(HUNTER, closer_task) and not may_read_task(HUNTER, closer_task)


def test_claimed_task_belongs_to_its_assignee_alone() -> None:
    claimed = task(groups=("hunter",), assignee="hanna")
    assert may_work_task(HUNTER, claimed)
    assert not may_work_task(OTHER_HUNTER, claimed) and not may_read_task(OTHER_HUNTER, claimed)


def test_head_of_sales_reads_everything_but_works_only_as_candidate_or_assignee() -> None:
    closer_task = task()
    assert may_read_task(HEAD, closer_task) and not may_work_task(HEAD, closer_task)
    assert may_work_task(HEAD, task(assignee="boss"))


def test_admin_reads_all_and_works_unassigned_tasks_but_not_a_colleagues_claimed_one() -> None:
    # security.md: admins may work any unassigned task (they could make themselves candidates anyway).
    assert may_read_task(ADMIN, task()) and may_work_task(ADMIN, task())
    assert not may_work_task(ADMIN, task(assignee="kolya"))
    assert may_work_task(ADMIN, task(assignee=ADMIN.username))


def test_who_completed_a_task_still_reads_it_but_candidates_of_a_closed_task_do_not() -> None:
    done = task(groups=("hunter",), assignee="hanna", state="completed", completed_by="hanna")
    assert may_read_task(HUNTER, done) and not may_read_task(OTHER_HUNTER, done)
    assert not may_read_task(CLOSER, task(state="cancelled"))


def test_outsiders_get_404_on_read_and_403_naming_nobody_on_action() -> None:
    closer_task = task(users=("someone-secret",))
    with pytest.raises(NotFound):
        require_task_readable(ACCOUNTING, closer_task, "t1")
    with pytest.raises(Forbidden) as refused:
        require_task_actionable(ACCOUNTING, closer_task, "t1")
    assert "closer" not in refused.value.detail and "someone-secret" not in refused.value.detail
    with pytest.raises(NotFound):
        require_task_actionable(ACCOUNTING, None, "t1")


def test_fellow_candidate_gets_past_the_gate_to_learn_the_task_is_taken() -> None:
    claimed = task(groups=("hunter",), assignee="hanna")
    assert require_task_actionable(OTHER_HUNTER, claimed, "t1") is claimed


def test_start_is_open_unless_the_model_names_starter_groups() -> None:
    open_definition = ProcessDefinition(key="deal", candidate_starter_groups=[], candidate_starter_users=[])
    limited = ProcessDefinition(key="deal", candidate_starter_groups=["hunter"], candidate_starter_users=["anna"])
    assert may_start(CLOSER, open_definition)
    assert may_start(HUNTER, limited) and may_start(ACCOUNTING, limited) and may_start(ADMIN, limited)
    assert not may_start(CLOSER, limited)
