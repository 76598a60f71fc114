"""The funnel page in the inbox: charts, the heatmap marks for the diagram, CSV links; a hunter's own view."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.context import AppContext
from tests.clock import controlled_clock
from tests.factories import password_of
from tests.integration.analytics.world import T0, add_people, build_known_history
from tests.ui_support import sign_in


@pytest.fixture
def pages(ctx: AppContext) -> Iterator[Any]:
    add_people(ctx)
    with controlled_clock(T0) as clock:
        build_known_history(ctx, clock)
    with TestClient(create_app(context=ctx), base_url="https://testserver", follow_redirects=False) as client:
        yield client


def marks(html: str) -> dict[str, Any]:
    found = re.search(r'data-marks="([^"]*)"', html)
    assert found, "the page has no diagram"
    return json.loads(unescape(found.group(1)))


def test_the_head_of_sales_sees_the_funnel_times_heatmap_and_csv_links(pages: Any) -> None:
    sign_in(pages, "boss", password_of("boss"))
    page = pages.get("/ui/analytics", headers={"Accept-Language": "ru"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Воронка продаж" in html and "Время на этапе" in html and "Узкие места" in html
    assert html.count('class="bar funnel-bar"') == 9
    heat = marks(html)["heat"]
    assert heat["Task_FulfilContract"]["level"] == 5  # the slowest task (52 hours)
    assert 1 <= heat["Task_QualifyLead"]["level"] < 5
    assert "/api/v1/analytics/funnel.csv?definition_key=sales_deal" in html
    english = pages.get("/ui/analytics?from=2025-03-04&to=2025-03-05", headers={"Accept-Language": "en"})
    assert "Sales funnel" in english.text or "Воронка продаж" in english.text
    assert "from=2025-03-04" in english.text


def test_a_hunter_sees_their_own_funnel_page(pages: Any) -> None:
    sign_in(pages, "igor", password_of("igor"))
    page = pages.get("/ui/analytics")
    assert page.status_code == 200
    assert "hanna" not in page.text.lower() and "clara" not in page.text.lower()
