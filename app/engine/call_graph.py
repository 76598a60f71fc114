"""Refuse at deploy a process that calls itself (directly or through others) on every run.

A call reached only through a condition (a gateway's choice, a conditional flow) may be a bounded recursion
(walking a tree, counting down), which Camunda runs: the engine bounds its depth at run time
(`workflow.MAX_CALL_DEPTH`). A call every run reaches can only nest without end, so it is refused here.
"""

from __future__ import annotations

from collections import deque

from lxml import etree

from app.engine.extensions import NSMAP
from app.errors import Problem

_CHOICES = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
_CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def unconditional_calls(container: etree._Element) -> list[etree._Element]:
    """The call activities every run of `container` reaches (through sequence flows without a choice)."""
    nodes = {el.get("id"): el for el in container if isinstance(el.tag, str) and el.get("id")}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in container.xpath("./bpmn:sequenceFlow", namespaces=NSMAP):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
    starts = [el for el in nodes.values() if _local(el) == "startEvent"
              and not (_local(container) == "subProcess" and container.get("triggeredByEvent") == "true")]
    seen = {el.get("id") for el in starts}
    queue = deque(starts)
    calls: list[etree._Element] = []
    while queue:
        node = queue.popleft()
        kind = _local(node)
        if kind == "callActivity":
            calls.append(node)
        elif kind in _CONTAINERS and node.get("triggeredByEvent") != "true":
            calls.extend(unconditional_calls(node))
        flows = outgoing.get(node.get("id"), [])
        if kind in _CHOICES and len(flows) > 1:
            continue
        for flow in flows:
            if flow.xpath("./bpmn:conditionExpression", namespaces=NSMAP):
                continue
            target = flow.get("targetRef")
            if target in nodes and target not in seen:
                seen.add(target)
                queue.append(nodes[target])
    return calls


def endless_recursion(processes: list[tuple[str, etree._Element]]) -> list[Problem]:
    """`processes` are (file name, process element); one problem per call activity on an unconditional cycle."""
    calls = {p.get("id"): [(filename, c) for c in unconditional_calls(p)] for filename, p in processes}
    problems: list[Problem] = []
    for start, edges in calls.items():
        for filename, call in edges:
            path = _path_back(calls, call.get("calledElement"), start)
            if path is not None:
                chain = " -> ".join([start, *path])
                what = (f"calls its own process {start!r}" if len(path) == 1 else
                        f"calls {call.get('calledElement')!r}, which calls {start!r} back ({chain}),")
                problems.append(Problem(
                    f"call activity {call.get('id')} {what} on every run: the calls would nest without end; put "
                    "the call behind a gateway condition that stops the recursion", file=filename,
                    line=call.sourceline, element_id=call.get("id")))
    return problems


def _path_back(calls: dict[str, list[tuple[str, etree._Element]]], first: str | None,
               goal: str) -> list[str] | None:
    """The process ids from `first` to `goal` along unconditional calls, or None."""
    if first is None:
        return None
    parents: dict[str, str | None] = {first: None}
    queue = deque([first])
    while queue:
        current = queue.popleft()
        if current == goal:
            path = [current]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for _, call in calls.get(current, []):
            target = call.get("calledElement")
            if target and target not in parents:
                parents[target] = current
                queue.append(target)
    return None
