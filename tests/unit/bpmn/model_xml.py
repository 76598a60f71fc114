"""Read the shipped models as XML (hardened parser) for structure and diagram checks."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from .harness import model_files

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "serviceTask", "scriptTask", "manualTask", "task", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}


def safe_parse(path: Path) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.parse(str(path), parser)


@cache
def documents() -> dict[str, etree._ElementTree]:
    return {p.name: safe_parse(p) for p in model_files()}


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def flow_nodes(doc: etree._ElementTree) -> list[etree._Element]:
    return [el for el in doc.iterfind(".//bpmn:process/*", NS) if local(el) in FLOW_NODE_TAGS]


def properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in el.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


@cache
def properties_by_id() -> dict[str, dict[str, str]]:
    return {el.get("id"): properties(el) for doc in documents().values() for el in flow_nodes(doc)}


def bounds(shape: etree._Element) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    return float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height"))
