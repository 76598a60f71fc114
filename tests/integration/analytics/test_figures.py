"""Every figure against a history built by hand (world.build_known_history), through the real sales model on
a controlled clock; numbers below are worked out in the comments from the hours in world.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.auth.actor import SYSTEM
from app.services import analytics
from app.services.analytics import Filters
from app.services.context import AppContext
from tests.clock import controlled_clock
from tests.integration.analytics.world import ACTORS, HOUR, T0, build_known_history

H = HOUR


@pytest.fixture
def world(ctx: AppContext) -> Iterator[AppContext]:
    from tests.integration.analytics.world import add_people

    add_people(ctx)
    with controlled_clock(T0) as clock:
        build_known_history(ctx, clock)
        yield ctx


def pick(row: dict, expected: dict) -> dict:
    """The part of `row` that `expected` names (to compare a few columns at once)."""
    return {k: row.get(k) for k in expected}


def rows(report: analytics.Report, key: str = "stage", table: str | None = None) -> dict:
    return {r[key]: r for r in report.table(table).rows}


def test_funnel_counts_reached_current_lost_and_conversion_per_stage(world: AppContext) -> None:
    report = analytics.funnel(world, actor=SYSTEM, filters=Filters("sales_deal"))
    by_stage = rows(report)
    assert list(by_stage) == ["lead", "qualified", "proposal", "negotiation", "contract", "invoiced", "paid",
                              "fulfilled", "retained"]
    assert [by_stage[s]["reached"] for s in by_stage] == [5, 3, 3, 3, 1, 1, 1, 1, 1]
    assert {s: r["current"] for s, r in by_stage.items() if r["current"]} == {"lead": 1, "negotiation": 1}
    assert {s: r["lost_reasons"] for s, r in by_stage.items() if r["lost"]} == {
        "lead": {"нет бюджета": 1}, "negotiation": {"дорого": 1}}
    assert [by_stage[s]["conversion"] for s in by_stage] == [None, 0.6, 1.0, 1.0, 0.3333, 1.0, 1.0, 1.0, 1.0]
    assert by_stage["contract"]["conversion_from_first"] == 0.2
    assert report.summary == {"deals": 5, "won": 1, "lost": 2, "running": 2, "terminated": 0,
                                   "overall_conversion": 0.2, "win_rate": 0.3333, "stage_conversion": 0.2}
    assert report.tables["lost_reasons"].rows == [{"stage": "lead", "reason": "нет бюджета", "deals": 1},
                                                  {"stage": "negotiation", "reason": "дорого", "deals": 1}]


def test_funnel_filters_by_source_manager_and_period(world: AppContext) -> None:
    def reached(**filters: object) -> list[int]:
        report = analytics.funnel(world, actor=SYSTEM, filters=Filters("sales_deal", **filters))  # type: ignore
        return [r["reached"] for r in report.table(None).rows][:5]

    assert reached(source="cold_call") == [3, 3, 3, 3, 1]  # A, C, E
    assert reached(segment="enterprise") == [1, 0, 0, 0, 0]  # D
    assert reached(category="b") == [4, 3, 3, 3, 1]  # all qualified as b (B too, then lost); D not yet
    assert reached(manager="igor") == [2, 1, 1, 1, 0]  # C and D, which igor started
    assert reached(manager="clara") == [2, 2, 2, 2, 1]  # A and C, which she worked on
    assert reached(start=T0 + timedelta(days=1), end=T0 + timedelta(days=3)) == [2, 1, 1, 1, 0]  # B, C
    assert reached(version=1) == [5, 3, 3, 3, 1]


def test_stage_times_are_medians_and_p90_of_each_deals_stay(world: AppContext) -> None:
    report = analytics.stage_times(world, actor=SYSTEM, filters=Filters("sales_deal"))
    by_stage = rows(report)
    # lead: A 2h, B 4h (lost there), C 5h, E 4h; D is still there -> [2, 4, 4, 5]: median 4h,
    # p90 at rank 1 + 0.9 * 3 = 3.7: 4 + 0.7 * (5 - 4) = 4.7h
    assert by_stage["lead"] == {"stage": "lead", "deals": 4, "median_seconds": 4 * H, "p90_seconds": 4.7 * H,
                                     "mean_seconds": 3.75 * H, "in_stage_now": 1}
    # negotiation: A 1+1 (prelim) + 0+1 (hand-over) + 2+2 + 1+1 + 1+1 = 11h; C 2 + 1 + 2+1 = 6h; E open
    assert (by_stage["negotiation"]["median_seconds"], by_stage["negotiation"]["p90_seconds"]) == (8.5 * H,
                                                                                                   10.5 * H)
    assert by_stage["negotiation"]["in_stage_now"] == 1
    # contract (A): draft 1+2, approval 2+1, signature 1+1 = 8h; invoiced: invoice 1h, sending 1+1, paid 24h later
    assert by_stage["contract"]["median_seconds"] == 8 * H and by_stage["invoiced"]["median_seconds"] == 27 * H
    # retained: five steps of 1+1 hours
    assert by_stage["retained"]["median_seconds"] == 10 * H
    # lead to payment (A): 2 + 2 + 3 + 11 + 8 + 27 = 53h; to the won end: + paid 3, fulfilled 52, retained 10
    assert report.summary["cycle_time"] == {"to_stage": "paid", "deals": 1, "median_seconds": 53 * H,
                                            "p90_seconds": 53 * H}
    assert report.summary["won_cycle_time"]["median_seconds"] == 118 * H


def test_task_times_split_waiting_for_a_claim_from_working(world: AppContext) -> None:
    by_task = rows(analytics.task_times(world, actor=SYSTEM, filters=Filters("sales_deal")), "element_id")
    qualify = by_task["Task_QualifyLead"]
    # A (1,1), B (1,3), C (3,2), E (2,2): waits [1,1,2,3], work [1,2,2,3], total [2,4,4,5]
    assert qualify["completed"] == 4
    assert (qualify["wait_median_seconds"], qualify["wait_p90_seconds"]) == (1.5 * H, 2.7 * H)
    assert (qualify["work_median_seconds"], qualify["work_p90_seconds"]) == (2 * H, 2.7 * H)
    assert (qualify["total_median_seconds"], qualify["total_p90_seconds"]) == (4 * H, 4.7 * H)
    assert qualify["name"] == "Квалифицировать лид" and qualify["work_kind"] == "main"
    assert by_task["Task_FulfilContract"]["work_median_seconds"] == 48 * H
    assert "Task_EscalateLead" not in by_task


def test_bottlenecks_rank_the_slowest_steps_and_show_what_is_stuck(world: AppContext) -> None:
    ranked = analytics.bottlenecks(world, actor=SYSTEM, filters=Filters("sales_deal"), limit=3).table(None).rows
    assert [r["element_id"] for r in ranked] == ["Task_FulfilContract", "Task_QualifyLead", "Task_Negotiate"]
    expected = {"rank": 1, "total_median_seconds": 52 * H, "mostly": "working"}
    assert pick(ranked[0], expected) == expected
    # D's qualification has waited since T0 + 3 days; the clock stands at T0 + 6 days
    assert ranked[1]["open_now"] == 1 and ranked[1]["oldest_open_seconds"] == 72 * H
    # Negotiate: A (2,2), C (2,1) -> median 3.5h; E's is open since its hand-over
    assert ranked[2]["total_median_seconds"] == 3.5 * H and ranked[2]["open_now"] == 1


def test_people_figures_and_the_auxiliary_share_against_the_50_percent_limit(world: AppContext) -> None:
    report = analytics.people(world, actor=SYSTEM, filters=Filters("sales_deal"))
    users = rows(report, "username")
    assert set(users) == {"hanna", "igor", "clara", "boss", "buh", "anna"}
    # hanna: A qualify 1, needs 1, prelim 1 main + proposal 2, hand-over 1 auxiliary; B qualify 3 main;
    # E qualify 2, needs 1, prelim 1 main + proposal 2, hand-over 1 auxiliary -> main 10h, auxiliary 6h
    assert pick(users["hanna"], hanna := {"roles": ["hunter"], "tasks_completed": 11, "deals_won": 1, "deals_lost": 1,
                                   "conversion": 0.5, "main_seconds": 10 * H, "auxiliary_seconds": 6 * H,
                                   "auxiliary_share": 0.375, "over_auxiliary_limit": False}) == hanna
    # clara: negotiate 2 + sign 1 (A) + negotiate 1 (C) main; price 1, terms 1, draft 2, invoice 1 auxiliary
    assert pick(users["clara"], clara := {"tasks_completed": 7, "deals_won": 1, "deals_lost": 1, "main_seconds": 4 * H,
                                   "auxiliary_seconds": 5 * H, "auxiliary_share": 0.5556,
                                   "over_auxiliary_limit": True, "handling_median_seconds": 1 * H}) == clara
    igor = {"tasks_completed": 5, "deals_won": 0, "deals_lost": 1, "conversion": 0.0, "auxiliary_share": 0.4286}
    assert pick(users["igor"], igor) == igor
    # approvals, closing documents and fulfilment are auxiliary by the model: boss, buh and anna are over too
    assert report.summary["over_auxiliary_limit"] == ["anna", "boss", "buh", "clara"]
    roles = rows(report, "role", "roles")
    assert roles["hunter"]["tasks_completed"] == 16 and roles["hunter"]["deals_lost"] == 2
    assert roles["closer"]["auxiliary_share"] == 0.5556


def test_a_hunter_sees_only_their_own_figures(world: AppContext) -> None:
    igor = ACTORS["igor"]
    asked_for_hanna = Filters("sales_deal", manager="hanna")
    funnel = analytics.funnel(world, actor=igor, filters=asked_for_hanna)
    assert funnel.filters["manager"] == "igor"
    assert [r["reached"] for r in funnel.table(None).rows][:3] == [2, 1, 1]
    people = analytics.people(world, actor=igor, filters=asked_for_hanna)
    assert [r["username"] for r in people.table(None).rows] == ["igor"] and "roles" not in people.tables
    tasks = rows(analytics.task_times(world, actor=igor, filters=Filters("sales_deal")), "element_id")
    assert tasks["Task_QualifyLead"]["completed"] == 1  # his own (C), not the others' three
    assert "Task_Negotiate" not in tasks  # clara's work
    sla = analytics.sla(world, actor=igor, filters=Filters("sales_deal"))
    assert all(r["manager"] == "igor" for r in sla.tables["managers"].rows)
    bottlenecks = analytics.bottlenecks(world, actor=igor, filters=Filters("sales_deal")).table(None).rows
    assert {r["element_id"] for r in bottlenecks} <= {"Task_QualifyLead", "Task_IdentifyNeeds",
                                                      "Task_PrepareProposal", "Task_PreliminaryNegotiations",
                                                      "Task_HandOverToCloser"}


def test_the_head_of_sales_sees_everyone(world: AppContext) -> None:
    report = analytics.people(world, actor=ACTORS["boss"], filters=Filters("sales_deal", manager="igor"))
    assert [r["username"] for r in report.table(None).rows] == ["igor"]  # asked for igor: gets igor
    assert len(analytics.people(world, actor=ACTORS["boss"], filters=Filters("sales_deal")).table(None).rows) == 6
