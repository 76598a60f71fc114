"""Domain errors. They carry data (ids, element, line); each API layer maps them to a response once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One located problem inside an input: which file, line, element or field."""

    message: str
    file: str | None = None
    line: int | None = None
    element_id: str | None = None
    field: str | None = None
    expression: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class VoronkaError(Exception):
    """Base of every domain error; `title` is a short human summary, `detail` the specific reason."""

    title = "Request failed"

    def __init__(self, detail: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: list[Problem] = problems or []


class InvalidInput(VoronkaError):
    """Malformed input from a client (400/422 family)."""

    title = "Invalid input"


class InvalidModel(InvalidInput):
    """An uploaded BPMN file that cannot be deployed: not XML, not BPMN, schema errors, unsupported elements."""

    title = "Invalid BPMN model"


class PayloadTooLarge(InvalidInput):
    title = "Payload too large"


class ValidationFailed(InvalidInput):
    """Submitted variables do not satisfy a form (missing required field, wrong type, out of range)."""

    title = "Validation failed"


class ExpressionFailed(VoronkaError):
    """An expression or script was refused or failed while it ran."""

    title = "Expression failed"

    def __init__(self, detail: str, *, expression: str | None = None, element_id: str | None = None) -> None:
        super().__init__(detail, problems=[Problem(detail, element_id=element_id, expression=expression)])
        self.expression = expression
        self.element_id = element_id


class NotFound(VoronkaError):
    title = "Not found"


class Conflict(VoronkaError):
    """A state conflict: the object changed meanwhile, or the action does not fit its current state."""

    title = "Conflict"


class UncaughtBpmnError(Conflict):
    """A BPMN error reported for a task that no boundary error event catches."""

    title = "BPMN error not caught"

    def __init__(self, code: str | None, element_id: str | None, message: str | None = None) -> None:
        super().__init__(f"no boundary error event catches error code {code!r} thrown at {element_id}"
                         + (f": {message}" if message else ""),
                         problems=[Problem("uncaught BPMN error", element_id=element_id)])
        self.code = code
        self.element_id = element_id
        self.message = message


class NotAuthenticated(VoronkaError):
    title = "Authentication required"


class Forbidden(VoronkaError):
    title = "Forbidden"


class RateLimited(VoronkaError):
    """Too many failed attempts; `retry_after` says in how many seconds to try again."""

    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(VoronkaError):
    """The database cannot be reached or did not answer in time: nothing was done (or, for a connection lost
    while committing, the outcome is unknown and `detail` says so). Clients retry after `retry_after` seconds.
    `retryable` marks a connection lost before anything was committed: the request may be run once more."""

    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2, retryable: bool = False) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.retryable = retryable


@dataclass
class EngineLimitExceeded(Exception):
    """The engine ran more steps in one request than allowed (a runaway cycle)."""

    steps: int
    element_ids: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"engine stopped after {self.steps} steps in one request (a cycle without a wait?)"
