"""Flows Camunda runs that SpiffWorkflow refuses, redrawn on the parsed tree before SpiffWorkflow sees it (the
stored XML keeps the modeler's drawing):

- several outgoing flows from a task or event (an implicit fork): a parallel gateway after it, or an inclusive
  gateway when some of the flows carry conditions (flows without one are always taken, as in Camunda);
- a flow out of an exclusive gateway with neither a condition nor the default mark: Camunda treats it as always
  true (taken when no flow before it in the model matched), so it gets the condition `${true}`.
"""

from __future__ import annotations

from lxml import etree

from app.engine.extensions import NSMAP
from app.engine.xml import BPMN_MODEL_NS

_B = f"{{{BPMN_MODEL_NS}}}"
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_NOT_NODES = {"sequenceFlow", "laneSet", "textAnnotation", "association", "dataObject", "dataObjectReference",
              "dataStoreReference", "group", "documentation", "extensionElements", "ioSpecification", "property"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _always(flow: etree._Element) -> None:
    condition = etree.SubElement(flow, f"{_B}conditionExpression")
    condition.text = "${true}"


def rewrite_implicit_flows(tree: etree._ElementTree) -> None:
    containers = tree.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction | //bpmn:adHocSubProcess",
                            namespaces=NSMAP)
    for container in containers:
        flows = container.findall(f"{_B}sequenceFlow")
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in flows:
            outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
        for node in list(container):
            if not isinstance(node.tag, str) or not node.tag.startswith(_B):
                continue
            kind = _local(node)
            if kind in _NOT_NODES or node.get("id") not in outgoing:
                continue
            leaving = outgoing[node.get("id")]
            if kind == "exclusiveGateway" and len(leaving) > 1:
                for flow in leaving:
                    if flow.get("id") != node.get("default") and flow.find(f"{_B}conditionExpression") is None:
                        _always(flow)
            elif kind not in _GATEWAYS and len(leaving) > 1:
                _fork(container, node, leaving)


def _fork(container: etree._Element, node: etree._Element, leaving: list[etree._Element]) -> None:
    conditional = any(f.find(f"{_B}conditionExpression") is not None for f in leaving)
    gateway_id = f"{node.get('id')}_fork"
    gateway = etree.SubElement(container, f"{_B}{'inclusiveGateway' if conditional else 'parallelGateway'}",
                               id=gateway_id)
    default = node.attrib.pop("default", None)
    if default:
        gateway.set("default", default)
    for flow in leaving:
        flow.set("sourceRef", gateway_id)
        if conditional and flow.get("id") != default and flow.find(f"{_B}conditionExpression") is None:
            _always(flow)
    etree.SubElement(container, f"{_B}sequenceFlow", id=f"{node.get('id')}_to_fork", sourceRef=node.get("id"),
                     targetRef=gateway_id)
    for ref in node.findall(f"{_B}outgoing"):
        node.remove(ref)
