"""Runner commands for timers, start events, messages and BPMN errors, on parsed models without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.engine import runner
from app.engine.parser import parse_bpmn_files
from app.engine.script_engine import SafeScriptEngine
from app.engine.serializer import dump_spec, load_spec
from app.errors import UncaughtBpmnError
from tests.factories import external_invoice, payment_or_reminder, payment_wait, timer_start, won_with_repeat

DATE = datetime(2027, 1, 15, 8, tzinfo=UTC)


def runtime(xml: str) -> runner.ProcessRuntime:
    [process] = parse_bpmn_files([("model.bpmn", xml.encode())], max_bytes=1_000_000)
    for spec in [process.spec, *process.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if (getattr(task_spec, "extensions", None) or {}).get("external_topic"):
                task_spec.manual = True  # as deployment does
    return runner.ProcessRuntime("d", process.spec, process.subprocess_specs, SafeScriptEngine())


@pytest.mark.parametrize(("timer", "offset", "schedule"), [
    ("<bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>", timedelta(hours=1), {"cycles": 2, "seconds": 3600.0}),
    ("<bpmn:timeCycle>R/PT10M</bpmn:timeCycle>", timedelta(minutes=10), {"cycles": -1, "seconds": 600.0}),
    ("<bpmn:timeDuration>PT30S</bpmn:timeDuration>", timedelta(seconds=30), None),
    ("<bpmn:timeDate>2027-01-15T08:00:00Z</bpmn:timeDate>", None, None),
])
def test_timer_start_events_are_evaluated_without_an_instance(timer: str, offset: timedelta | None,
                                                               schedule: dict | None) -> None:
    now = datetime.now(UTC)  # cycles without a start date count from the real clock
    [trigger] = runner.start_triggers(runtime(timer_start(timer=timer)), now=now)
    assert (trigger.kind, trigger.element_id, trigger.schedule) == ("timer", "Tick", schedule)
    due = DATE if offset is None else now + offset
    assert trigger.due_at is not None and abs((trigger.due_at - due).total_seconds()) < 5


def test_message_wait_expects_the_correlation_value_from_the_instance_data() -> None:
    step = runner.start(runtime(payment_wait()), {"order": "A-7"}, max_steps=100)
    [wait] = step.message_waits
    assert (wait.message_name, wait.element_id, wait.correlation) == ("payment", "Paid", {"order_id": "A-7"})


def test_delivered_message_variables_reach_the_instance() -> None:
    rt = runtime(payment_wait())
    waiting = runner.start(rt, {"order": "A-7"}, max_steps=100)
    step = runner.apply(rt, waiting.state, runner.deliver_message("payment", {"paid": 1200}, {"order_id": "A-7"}),
                        max_steps=100)
    assert [t.element_id for t in step.user_tasks] == ["Ship"] and step.data["paid"] == 1200
    assert step.message_waits == []


def test_a_bpmn_error_nobody_catches_changes_nothing() -> None:
    rt = runtime(external_invoice())
    waiting = runner.start(rt, {}, max_steps=100)
    [external] = waiting.external_tasks
    with pytest.raises(UncaughtBpmnError):
        runner.apply(rt, waiting.state, runner.throw_bpmn_error(external.task_id, "other", None, {}), max_steps=100)
    caught = runner.apply(rt, waiting.state, runner.throw_bpmn_error(external.task_id, "no_customer", None,
                                                                     {"inn": "1"}), max_steps=100)
    assert [t.element_id for t in caught.user_tasks] == ["FixCustomer"] and caught.external_tasks == []


def test_a_timer_caught_by_an_event_based_gateway_is_reported_as_fired_on_the_gateway() -> None:
    rt = runtime(payment_or_reminder(duration="PT1H"))
    with time_machine.travel(DATE, tick=False) as clock:
        waiting = runner.start(rt, {}, max_steps=100)
        [timer] = waiting.timers
        assert (timer.element_id, timer.due_at) == ("Await", DATE + timedelta(hours=1))
        clock.shift(timedelta(hours=2))
        fired = runner.apply(rt, waiting.state, runner.fire_due_timers(), max_steps=100)
    assert [t.element_id for t in fired.user_tasks] == ["Remind"]
    assert [(e.element_id, e.task_id) for e in fired.finished_elements if e.timer] == [("Await", timer.task_id)]


def test_a_message_caught_by_an_event_based_gateway_is_no_timer_firing() -> None:
    rt = runtime(payment_or_reminder())
    waiting = runner.start(rt, {}, max_steps=100)
    paid = runner.apply(rt, waiting.state, runner.deliver_message("payment", {"paid": 1}, {}), max_steps=100)
    assert [t.element_id for t in paid.user_tasks] == ["Ship"] and paid.timers == []
    assert [e.element_id for e in paid.finished_elements if e.timer] == []


def test_a_thrown_message_carries_its_payload_expression_instead_of_the_senders_data() -> None:
    rt = runtime(won_with_repeat(payload="{'company': company, 'source': 'repeat'}"))
    spec, subprocesses = load_spec(dump_spec(rt.spec, rt.subprocess_specs))  # as stored at deployment
    stored = runner.ProcessRuntime("d", spec, subprocesses, SafeScriptEngine())
    step = runner.start(stored, {"company": "ООО Ромашка", "source": "exhibition", "paid": 100}, max_steps=100)
    assert step.completed and step.failure is None
    assert [(m.name, m.payload) for m in step.thrown] == [("repeat", {"company": "ООО Ромашка",
                                                                      "source": "repeat"})]


def test_without_a_payload_expression_a_thrown_message_carries_the_senders_data() -> None:
    step = runner.start(runtime(won_with_repeat(payload=None)), {"company": "ООО Ромашка"}, max_steps=100)
    assert [(m.name, m.payload) for m in step.thrown] == [("repeat", {"company": "ООО Ромашка"})]


def test_a_payload_expression_that_is_not_a_dict_fails_the_instance_at_the_event() -> None:
    step = runner.start(runtime(won_with_repeat(payload="company")), {"company": "ООО Ромашка"}, max_steps=100)
    assert step.failure is not None and step.failure.element_id == "Won"
    assert "must be a dict" in step.failure.message and step.thrown == []
