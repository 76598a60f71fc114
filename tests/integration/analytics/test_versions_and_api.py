"""Versions side by side, and the HTTP surface: JSON rows, CSV for Excel, bad parameters, who sees what."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services import analytics
from app.services.analytics import Filters
from app.services.context import AppContext
from tests.clock import controlled_clock
from tests.conftest import basic_auth
from tests.factories import password_of
from tests.integration.analytics.world import (
    ACTORS,
    BPMN,
    T0,
    add_people,
    build_known_history,
    deploy_sales_models,
    start_deal,
    to_negotiation,
)


@pytest.fixture
def world(ctx: AppContext) -> Iterator[AppContext]:
    add_people(ctx)
    with controlled_clock(T0) as clock:
        build_known_history(ctx, clock)
        yield ctx


@pytest.fixture
def as_user(world: AppContext) -> Iterator:  # type: ignore[type-arg]
    with TestClient(create_app(context=world)) as client:
        def get(user: str, path: str, **params: object):  # type: ignore[no-untyped-def]
            return client.get(f"/api/v1/analytics/{path}", params=params,
                              headers=basic_auth(user, password_of(user)))
        yield get


def test_versions_side_by_side_after_a_new_regulation(world: AppContext) -> None:
    # v2 renames the discount approval step; two deals run on it, one reaches negotiation
    xml = (BPMN / "sales_deal.bpmn").read_text(encoding="utf-8").replace('name="Согласовать скидку"',
                                                                          'name="Согласовать скидку с руководителем"')
    with controlled_clock(T0 + timedelta(days=10)) as clock:
        deploy_sales_models(world, xml)
        new = start_deal(world, clock, "hanna", "ООО Новая")
        new.do("Task_QualifyLead", "hanna", wait=1, work=1)
        other = start_deal(world, clock, "igor", "ООО Другая")
        to_negotiation(other, "igor", lead=(0.5, 0.5), proposal=(1, 1))
    report = analytics.compare_versions(world, actor=ACTORS["boss"], filters=Filters("sales_deal"))
    assert (report.summary["a"], report.summary["b"]) == (1, 2)
    stages = {r["stage"]: r for r in report.tables["stages"].rows}
    assert (stages["lead"]["reached_a"], stages["lead"]["reached_b"]) == (5, 2)
    assert (stages["negotiation"]["reached_a"], stages["negotiation"]["reached_b"]) == (3, 1)
    assert (stages["lead"]["median_seconds_a"], stages["lead"]["median_seconds_b"]) == (4 * 3600, 1.5 * 3600)
    figures = {r["figure"]: r for r in report.table(None).rows}
    assert figures["deals"] == {"figure": "deals", "a": 5, "b": 2, "change": -3}
    assert figures["won"]["a"] == 1 and figures["won"]["b"] == 0


def test_funnel_endpoint_answers_one_row_per_stage(as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user("boss", "funnel", definition_key="sales_deal", **{"from": T0.isoformat(),
                                                                         "to": (T0 + timedelta(days=30)).isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["stage"], r["reached"], r["current"], r["lost"], r["conversion"]) for r in body["items"][:5]] == [
        ("lead", 5, 1, 1, None), ("qualified", 3, 0, 0, 0.6), ("proposal", 3, 0, 0, 1.0),
        ("negotiation", 3, 1, 1, 1.0), ("contract", 1, 0, 0, 0.3333)]
    assert body["overall_conversion"] == 0.2 and body["filters"]["from"].startswith("2025-03-03")
    for path in ("stage-times", "task-times", "bottlenecks", "sla", "people"):
        assert as_user("boss", path, definition_key="sales_deal").json()["items"], path


def test_csv_export_is_utf8_with_a_bom_and_keeps_cyrillic(as_user) -> None:  # type: ignore[no-untyped-def]
    by_path = as_user("boss", "task-times.csv", definition_key="sales_deal")
    by_param = as_user("boss", "task-times", definition_key="sales_deal", format="csv")
    assert by_path.status_code == 200 and by_path.content == by_param.content
    assert by_path.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_path.headers["content-disposition"]
    assert by_path.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(by_path.content.decode("utf-8-sig"))))
    assert {"element_id": "Task_QualifyLead", "name": "Квалифицировать лид"}.items() <= table[0].items()
    reasons = as_user("boss", "funnel.csv", definition_key="sales_deal", table="lost_reasons", sep=";")
    assert reasons.content.decode("utf-8-sig").splitlines() == [
        "stage;reason;deals", "lead;нет бюджета;1", "negotiation;дорого;1"]
    for path in ("stage-times", "bottlenecks", "sla", "people"):
        exported = as_user("boss", f"{path}.csv", definition_key="sales_deal")
        assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf"), path


def test_bad_parameters_are_problems_naming_the_field(as_user) -> None:  # type: ignore[no-untyped-def]
    def problem(path: str, **params: object) -> tuple[int, list[str]]:
        response = as_user("boss", path, **params)
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        return response.status_code, [e.get("field", "") for e in response.json().get("errors", [])]

    status, fields = problem("funnel", definition_key="sales_deal", **{"from": "last tuesday"})
    assert status == 422 and any(f.endswith("from") for f in fields)
    assert problem("funnel", definition_key="sales_deal", **{"from": T0.isoformat(), "to": T0.isoformat()}) == (
        422, ["to"])
    status, fields = problem("funnel")
    assert status == 422 and any(f.endswith("definition_key") for f in fields)
    assert problem("funnel", definition_key="sales_deal", version=9) == (422, ["version"])
    status, fields = problem("sla", definition_key="sales_deal", format="xml")
    assert status == 422 and any(f.endswith("format") for f in fields)
    assert problem("funnel", definition_key="sales_deal", table="nope", format="csv") == (422, ["table"])
    assert problem("versions", definition_key="sales_deal") == (422, ["a"])  # one version only
    assert problem("funnel", definition_key="no_such_process")[0] == 404


def test_a_hunter_gets_their_own_numbers_and_no_one_elses_names(as_user) -> None:  # type: ignore[no-untyped-def]
    for path in ("funnel", "stage-times", "task-times", "bottlenecks", "sla", "people"):
        response = as_user("igor", path, definition_key="sales_deal", manager="hanna")
        assert response.status_code == 200, response.text
        for other in ("hanna", "clara", "boss", "anna", "buh", "Hanna", "Clara"):
            assert other not in response.text, (path, other)
        csv_text = as_user("igor", f"{path}.csv", definition_key="sales_deal").content.decode("utf-8-sig")
        assert "hanna" not in csv_text and "clara" not in csv_text
    people = as_user("igor", "people", definition_key="sales_deal").json()
    assert [r["username"] for r in people["items"]] == ["igor"] and "roles" not in people
    assert as_user("igor", "funnel", definition_key="sales_deal").json()["filters"]["manager"] == "igor"
    assert as_user("igor", "people", definition_key="sales_deal", table="roles").status_code == 422
