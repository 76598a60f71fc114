"""An audit hook that records every side effect an escape could produce (files, processes, code execution,
imports, frame and code-object access). Python cannot remove audit hooks, so it is installed once and only
records while a test holds the `side_effects` fixture open."""

from __future__ import annotations

import sys

import pytest

# Audit events that no expression or script may ever cause. ('compile' is absent on purpose: ast.parse raises
# it for every text we check.)
DANGEROUS_PREFIXES = (
    "open",
    "os.",
    "subprocess.",
    "shutil.",
    "socket.",
    "ctypes.",
    "exec",
    "import",
    "builtins.input",
    "object.__getattr__",
    "object.__setattr__",
    "sys._getframe",
    "sys.settrace",
    "sys.setprofile",
    "function.__new__",
    "code.__new__",
    "pickle.",
    "marshal.",
    "urllib.",
    "http.",
    "webbrowser.",
)

_recording: list[list[tuple[str, tuple[object, ...]]]] = []


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recording and event.startswith(DANGEROUS_PREFIXES):
        _recording[-1].append((event, args))


sys.addaudithook(_hook)


class SideEffects:
    """`with side_effects:` records the dangerous audit events raised inside the block into `.events`."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[object, ...]]] = []

    def __enter__(self) -> SideEffects:
        _recording.append(self.events)
        return self

    def __exit__(self, *exc: object) -> None:
        _recording.remove(self.events)


@pytest.fixture
def side_effects() -> SideEffects:
    return SideEffects()
