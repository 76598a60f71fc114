"""Who is acting: the authenticated user (or the system) as the service layer sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
HEAD_OF_SALES = "head_of_sales"
DESIGNER = "designer"
EXTERNAL_WORKER = "external_worker"  # service accounts of integrations that work external tasks
ROLES = ("hunter", "closer", "accounting", "account_manager", HEAD_OF_SALES, DESIGNER, ADMIN, EXTERNAL_WORKER)


@dataclass(frozen=True)
class Actor:
    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_system: bool = False
    # The user's token epoch when authenticated: tokens issued for this actor carry it (see services.logins).
    token_epoch: int = field(default=0, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.is_system or ADMIN in self.groups

    @property
    def sees_all_work(self) -> bool:
        """Head of sales and admins read every task and instance and may reassign tasks."""
        return self.is_admin or HEAD_OF_SALES in self.groups

    @property
    def can_deploy(self) -> bool:
        return self.is_admin or DESIGNER in self.groups


SYSTEM = Actor("system", frozenset({ADMIN}), is_system=True)
