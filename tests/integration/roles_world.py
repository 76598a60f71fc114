"""A small sales world for authorization tests: one user per role, the role relay deployed, and helpers to
put an instance at the closer's stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.auth.actor import SYSTEM, Actor
from app.services import deployments, instances, tasks
from app.services.context import AppContext
from app.services.tasks import TaskFilter
from tests.conftest import basic_auth
from tests.factories import ROLES, add_role_users, password_of, role_relay

USER_OF_ROLE = {role: ("admin_2" if role == "admin" else role) for role in ROLES}
CLOSER_TASK_NAME = "Работа: closer"


def actor(role: str) -> Actor:
    return Actor(USER_OF_ROLE[role], frozenset({role}))


def auth(role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return basic_auth(USER_OF_ROLE[role], password_of(USER_OF_ROLE[role]))


@dataclass
class World:
    ctx: AppContext
    instance_id: str = ""
    hunter_task: str = ""
    closer_task: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def open_task(self, instance_id: str) -> str:
        rows, _ = tasks.list_tasks(self.ctx, actor=SYSTEM, flt=TaskFilter(instance_id=instance_id))
        assert len(rows) == 1, rows
        return rows[0].id

    def at_closer_stage(self, *, started_by: str = "admin") -> tuple[str, str, str]:
        """A new instance whose hunter task the hunter completed: (instance id, hunter task, closer task)."""
        starter = Actor(started_by, frozenset({"admin"})) if started_by == "admin" else actor(started_by)
        view = instances.start_instance(self.ctx, actor=starter, definition_key="relay")
        hunter_task = self.open_task(view.instance.id)
        tasks.complete_task(self.ctx, actor=actor("hunter"), task_id=hunter_task)
        return view.instance.id, hunter_task, self.open_task(view.instance.id)


def build_world(ctx: AppContext) -> World:
    add_role_users(ctx)
    deployments.deploy(ctx, files=[("relay.bpmn", role_relay().encode())], actor=SYSTEM)
    deployments.deploy(ctx, files=[("limited.bpmn", role_relay("limited", starter_groups="hunter").encode())],
                       actor=SYSTEM)
    world = World(ctx)
    world.instance_id, world.hunter_task, world.closer_task = world.at_closer_stage()
    return world
