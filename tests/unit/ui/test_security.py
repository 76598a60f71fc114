from __future__ import annotations

import pytest

from app.ui.security import safe_next


@pytest.mark.parametrize(("target", "expected"), [
    ("/ui/deals?status=running", "/ui/deals?status=running"),
    ("/ui/tasks/abc", "/ui/tasks/abc"),
    (None, "/ui/inbox"),
    ("", "/ui/inbox"),
    ("https://evil.example/ui", "/ui/inbox"),
    ("//evil.example/ui", "/ui/inbox"),
    ("/ui\\@evil.example", "/ui/inbox"),
    ("/docs", "/ui/inbox"),
])
def test_next_only_ever_points_inside_the_pages(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
