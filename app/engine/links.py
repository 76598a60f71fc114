"""Link events as sequence flows: SpiffWorkflow has no link events, and a link is only a drawing aid (a long
flow cut in two, "go to" and "come from"), so each link throw becomes a plain throw event flowing into the
catch of the same name in the same process. Done on the parsed tree before SpiffWorkflow sees it; the stored
XML (what the modeler and the diagram show) keeps the links."""

from __future__ import annotations

from lxml import etree

from app.engine.extensions import NSMAP
from app.engine.xml import BPMN_MODEL_NS
from app.errors import Problem

_B = f"{{{BPMN_MODEL_NS}}}"


def rewrite_links(tree: etree._ElementTree, *, filename: str) -> list[Problem]:
    problems: list[Problem] = []
    for container in tree.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction", namespaces=NSMAP):
        catches: dict[str, etree._Element] = {}
        for event in container.xpath("./bpmn:intermediateCatchEvent[bpmn:linkEventDefinition]", namespaces=NSMAP):
            catches[_link_name(event)] = event
        for event in container.xpath("./bpmn:intermediateThrowEvent[bpmn:linkEventDefinition]", namespaces=NSMAP):
            name = _link_name(event)
            target = catches.get(name)
            if target is None:
                problems.append(Problem(f"link event {event.get('id')} goes to link {name!r}, but no link catch "
                                        "event of that name is in the same process or sub-process",
                                        file=filename, line=event.sourceline, element_id=event.get("id")))
                continue
            _drop_definition(event)
            flow = etree.SubElement(container, f"{_B}sequenceFlow", id=f"{event.get('id')}_link",
                                    sourceRef=event.get("id"), targetRef=target.get("id"))
            flow.tail = "\n"
        for event in catches.values():
            _drop_definition(event)
            event.tag = f"{_B}intermediateThrowEvent"  # a catch without a trigger: passes straight through
    return problems


def _link_name(event: etree._Element) -> str:
    definition = event.find(f"{_B}linkEventDefinition")
    return (definition.get("name") or definition.get("id") or "") if definition is not None else ""


def _drop_definition(event: etree._Element) -> None:
    for definition in event.findall(f"{_B}linkEventDefinition"):
        event.remove(definition)
