"""Uploaded BPMN files -> SpiffWorkflow specs, Camunda/Zeebe extensions read, unrunnable models refused.

`parse_bpmn_files` is the one entry point: hardened XML parsing, BPMN 2.0 schema validation, refusal of
features we cannot run, then SpiffWorkflow's Camunda parser (extended to read assignment, forms, properties
and external topics into `task_spec.extensions`). Every problem found is reported with file, line and element.
Expressions are not evaluated or checked here.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH, BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import EnumFormField, Form, FormField
from SpiffWorkflow.camunda.specs.user_task import UserTask as CamundaUserTask

from app.engine.call_graph import endless_recursion
from app.engine.decision_task import DecisionTask
from app.engine.extensions import (
    CAMUNDA_NS,
    NSMAP,
    ZEEBE_NS,
    camunda,
    read_extensions,
    read_form_fields,
    split_list,
)
from app.engine.implicit_flows import rewrite_implicit_flows
from app.engine.io_mapping import read_io_mapping
from app.engine.links import rewrite_links
from app.engine.message_payload import PayloadMessageEventDefinition
from app.engine.unsupported import find_unsupported
from app.engine.xml import BPMN_MODEL_NS, parse_xml
from app.errors import InvalidModel, Problem

MAX_PROBLEMS = 20

_PREFIXES = {
    BPMN_MODEL_NS: "bpmn",
    CAMUNDA_NS: "camunda",
    ZEEBE_NS: "zeebe",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
}


@dataclass
class ParsedProcess:
    """One executable process of an upload, ready to store as a definition version."""

    key: str
    name: str
    filename: str
    xml: bytes
    sha256: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    candidate_starter_groups: list[str] = field(default_factory=list)
    candidate_starter_users: list[str] = field(default_factory=list)
    start_form: list[dict[str, Any]] = field(default_factory=list)
    user_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- the BPMN 2.0 schema, compiled once per process (it takes ~100 ms) ------------------------------------

_schema: etree.XMLSchema | None = None
_schema_lock = threading.Lock()


def _bpmn_schema() -> etree.XMLSchema:
    global _schema
    with _schema_lock:
        if _schema is None:
            _schema = etree.XMLSchema(etree.parse(XSD_PATH))
        return _schema


def _readable(message: str) -> str:
    for namespace, prefix in _PREFIXES.items():
        message = message.replace(f"{{{namespace}}}", f"{prefix}:")
    return message if len(message) <= 400 else message[:397] + "..."


def validate_schema(tree: etree._ElementTree, *, filename: str) -> list[Problem]:
    """All BPMN 2.0 XSD violations of one file (capped), each with its line and element id where known."""
    # bpmn-js writes correlation retrieval expressions in a shape the XSD rejects; SpiffWorkflow's own
    # validator renames them the same way before validating, and its parser reads either shape.
    path = ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression"
    for expression in tree.xpath(path, namespaces=NSMAP):
        expression.tag = f"{{{BPMN_MODEL_NS}}}messagePath"
    schema = _bpmn_schema()
    with _schema_lock:  # the error log lives on the shared schema object
        valid = schema.validate(tree)
        errors = list(schema.error_log)
    if valid:
        return []
    problems = []
    for error in errors[:MAX_PROBLEMS]:
        message = f"BPMN schema: {_readable(error.message)}"
        problems.append(
            Problem(message, file=filename, line=error.line, element_id=_element_id_on_line(tree, error.line))
        )
    return problems


def _element_id_on_line(tree: etree._ElementTree, line: int) -> str | None:
    """The id of the one element with an id that starts on `line`, if exactly one does."""
    ids = [el.get("id") for el in tree.iter(etree.Element) if el.sourceline == line and el.get("id")]
    return ids[0] if len(ids) == 1 else None


# --- SpiffWorkflow's Camunda parser, taught to read what it ignores --------------------------------------


_REFERENCES = {"messageEventDefinition": ("messageRef", "message"), "signalEventDefinition": ("signalRef", "signal"),
               "errorEventDefinition": ("errorRef", "error"),
               "escalationEventDefinition": ("escalationRef", "escalation")}


class _ExtensionsMixin:
    """Reads our extensions dict instead of the library's flat camunda:properties map; says refusals in prose
    naming the element; ignores data associations, as Camunda does."""

    node: etree._Element
    lane: str | None
    task: Any
    filename: str

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        return read_extensions(self.node, lane=self.lane)

    def raise_validation_exception(self, message: str, node: etree._Element | None = None) -> None:
        # The library's event parsers pass `node=`, which its own method does not take (a TypeError).
        if node is not None and etree.QName(node).localname in _REFERENCES:
            attribute, kind = _REFERENCES[etree.QName(node).localname]
            message = (f"the {kind} event refers to {kind} {node.get(attribute)!r}, which no bpmn:{kind} element "
                       f"of this file defines; add it or pick a defined one in the modeler")
        raise ValidationException(message, self.node, self.filename)

    # Data objects and stores are documentation here, as in Camunda: variables flow as usual. The associations
    # carry the activity's variable mappings instead (io_mapping.py).
    def parse_incoming_data_references(self) -> list[Any]:
        return list(read_io_mapping(self.node)[0])

    def parse_outgoing_data_references(self) -> list[Any]:
        return list(read_io_mapping(self.node)[1])

    def _copy_task_attrs(self, original: Any, loop_characteristics: Any = None) -> None:
        super()._copy_task_attrs(original, loop_characteristics)  # type: ignore[misc]
        # The multi-instance wrapper replaces the task in the spec; keep the extensions on both.
        self.task.extensions = getattr(original, "extensions", {})


class _UserTaskParser(_ExtensionsMixin, UserTaskParser):
    def get_form(self) -> Form:
        # Camunda Modeler writes camunda:formData without camunda:formKey; read the fields either way.
        form = Form()
        form.key = self.node.get(camunda("formKey")) or ""
        for xml_field in self.node.xpath(
            "./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NSMAP
        ):
            form_field = self.get_enum_field(xml_field) if xml_field.get("type") == "enum" else FormField()
            form_field.id = xml_field.get("id")
            form_field.type = xml_field.get("type")
            form_field.label = xml_field.get("label")
            form_field.default_value = xml_field.get("defaultValue")
            for prop in xml_field.xpath("./camunda:properties/camunda:property", namespaces=NSMAP):
                form_field.add_property(prop.get("id"), prop.get("value"))
            for constraint in xml_field.xpath("./camunda:validation/camunda:constraint", namespaces=NSMAP):
                form_field.add_validation(constraint.get("name"), constraint.get("config"))
            form.add_field(form_field)
        return form

    def get_enum_field(self, xml_field: etree._Element) -> EnumFormField:
        enum_field = EnumFormField()
        for value in xml_field.xpath("./camunda:value", namespaces=NSMAP):
            enum_field.add_option(value.get("id"), value.get("name"))
        return enum_field


class _BpmnMessagesMixin:
    """Every message event gets SpiffWorkflow's plain MessageEventDefinition, as receive and send tasks do:
    the Camunda variant evaluates a `camunda:expression` that models rarely have, nests the payload under
    `<task>_Response`, and is a different class, so a Camunda throw event would never match a receive task.
    Plain semantics: a thrown message carries the sender's data and correlations; a caught payload is
    merged into the receiver's data. A throw or end event's `camunda:expression` chooses the payload
    (message_payload.py)."""

    def parse_message_event(self, message_event: etree._Element) -> Any:
        plain = EventDefinitionParser.parse_message_event(self, message_event)  # type: ignore[arg-type]
        expression = message_event.get(f"{{{CAMUNDA_NS}}}expression")
        parent = etree.QName(message_event.getparent()).localname
        if expression and expression.strip() and parent in ("intermediateThrowEvent", "endEvent"):
            return PayloadMessageEventDefinition(plain.name, plain.correlation_properties,
                                                 expression=expression.strip(), description=plain.description)
        return plain


def _parser_classes() -> dict[str, tuple[type, type]]:
    table = {**BpmnParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES,
             f"{{{BPMN_MODEL_NS}}}businessRuleTask": (TaskParser, DecisionTask)}
    wrapped: dict[str, tuple[type, type]] = {}
    for tag, (parser_class, spec_class) in table.items():
        if parser_class is UserTaskParser:
            wrapped[tag] = (_UserTaskParser, spec_class)
        else:
            mixins: tuple[type, ...] = (_ExtensionsMixin,)
            if issubclass(parser_class, EventDefinitionParser):
                mixins += (_BpmnMessagesMixin,)
            wrapped[tag] = (type(f"Voronka{parser_class.__name__}", (*mixins, parser_class), {}), spec_class)
    return wrapped


class VoronkaParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = _parser_classes()

    def _find_dependencies(self, process: etree._Element) -> None:
        # Decisions are ours (decision_task.py, looked up at run time), not the library's DMN parser's.
        BpmnParser._find_dependencies(self, process)

    def _add_data_stores(self, bpmn: etree._Element) -> None:
        """Data stores are accepted and ignored (Camunda ignores them too); the library wants an
        implementation class per store name."""

    def __init__(self) -> None:
        namespaces = dict(CamundaParser().namespaces)
        namespaces["zeebe"] = ZEEBE_NS
        super().__init__(namespaces=namespaces)


SUPPORTED_TAGS = frozenset(VoronkaParser.OVERRIDE_PARSER_CLASSES)


# --- the entry point ---------------------------------------------------------------------------------------


@dataclass
class _Upload:
    filename: str
    data: bytes
    tree: etree._ElementTree

    def processes(self) -> list[etree._Element]:
        return self.tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NSMAP)  # type: ignore[no-any-return]

    def executable(self) -> list[etree._Element]:
        # Camunda 7 deploys only processes marked isExecutable="true"; a missing attribute means "not".
        return [process for process in self.processes() if process.get("isExecutable") == "true"]

    def line_of(self, element_id: str | None) -> int | None:
        if not element_id:
            return None
        found = self.tree.xpath("//*[@id=$id]", id=element_id)
        return found[0].sourceline if found else None


def _raise_if_any(problems: list[Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    where = ", ".join(
        part
        for part in (
            first.file,
            f"line {first.line}" if first.line else None,
            f"element {first.element_id}" if first.element_id else None,
        )
        if part
    )
    detail = f"{where}: {first.message}"
    if len(problems) > 1:
        detail = f"{len(problems)} problems in the uploaded model; the first: {detail}"
    raise InvalidModel(detail, problems=problems[:MAX_PROBLEMS])


def _spiff_problem(exc: Exception, upload: _Upload | None, fallback_file: str | None) -> Problem:
    if isinstance(exc, ValidationException):
        element_id = exc.id or None
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
        if line is None and upload is not None:
            line = upload.line_of(element_id)
        message = str(exc.args[0]) if exc.args else str(exc)
        if exc.tag:
            message = f"{message} ({exc.tag})"
        return Problem(message, file=exc.file_name or fallback_file, line=line, element_id=element_id)
    return Problem(f"the model could not be parsed: {exc}", file=fallback_file)


def _load(files: list[tuple[str, bytes]], max_bytes: int) -> tuple[list[_Upload], list[Problem]]:
    uploads: list[_Upload] = []
    problems: list[Problem] = []
    for filename, data in files:
        try:
            tree = parse_xml(data, filename=filename, max_bytes=max_bytes)
        except InvalidModel as exc:  # PayloadTooLarge is no InvalidModel: it ends the upload at once
            problems.extend(exc.problems)
            continue
        upload = _Upload(filename, data, tree)
        file_problems = validate_schema(tree, filename=filename)
        if not file_problems:
            file_problems = rewrite_links(tree, filename=filename)
            rewrite_implicit_flows(tree)
            file_problems += find_unsupported(tree, filename=filename, parsed_tags=SUPPORTED_TAGS)
        if not upload.executable():
            names = ", ".join(p.get("id", "?") for p in upload.processes()) or "none"
            file_problems.append(
                Problem(
                    f"no executable process in this file (processes: {names}); "
                    'mark the process to deploy with isExecutable="true"',
                    file=filename,
                )
            )
        problems.extend(file_problems)
        uploads.append(upload)
    return uploads, problems


def _check_references(uploads: list[_Upload]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for upload in uploads:
        for process in upload.processes():
            process_id = process.get("id")
            if process_id in seen:
                problems.append(
                    Problem(
                        f"process id {process_id!r} is defined twice in this upload ({seen[process_id]} and "
                        f"{upload.filename}); process ids must be unique",
                        file=upload.filename,
                        line=process.sourceline,
                        element_id=process_id,
                    )
                )
            seen.setdefault(process_id, upload.filename)
    executable = {p.get("id") for upload in uploads for p in upload.executable()}
    problems.extend(endless_recursion([(u.filename, p) for u in uploads for p in u.executable()]))
    for upload in uploads:
        for process in upload.executable():
            for call in process.xpath(".//bpmn:callActivity", namespaces=NSMAP):
                called = call.get("calledElement")
                if called and called not in executable:
                    why = "is not executable" if called in seen else "is not in this upload"
                    problems.append(
                        Problem(
                            f"call activity calls process {called!r}, which {why}; deploy the called process "
                            'together with this one (isExecutable="true")',
                            file=upload.filename,
                            line=call.sourceline,
                            element_id=call.get("id"),
                        )
                    )
    return problems


def _user_tasks(
    process: etree._Element, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> dict[str, dict[str, Any]]:
    # Only this process and its embedded sub-processes: a called process may reuse the same element ids.
    embedded = set(
        process.xpath(
            ".//bpmn:subProcess/@id | .//bpmn:transaction/@id | .//bpmn:adHocSubProcess/@id", namespaces=NSMAP
        )
    )
    specs = [spec, *(sub for key, sub in subprocess_specs.items() if key in embedded and sub is not None)]
    by_id = {
        task_spec.bpmn_id: task_spec
        for spec in specs
        for task_spec in spec.task_specs.values()
        if isinstance(task_spec, CamundaUserTask)
    }
    tasks: dict[str, dict[str, Any]] = {}
    for node in process.xpath(".//bpmn:userTask", namespaces=NSMAP):
        task_spec = by_id.get(node.get("id"))
        if task_spec is not None:
            tasks[node.get("id")] = {
                **task_spec.extensions,
                "name": task_spec.bpmn_name,
                "lane": task_spec.lane,
            }
    return tasks


def _start_form(process: etree._Element) -> list[dict[str, Any]]:
    for start in process.xpath("./bpmn:startEvent", namespaces=NSMAP):
        fields = read_form_fields(start)
        if fields:
            return fields
    return []


def parse_bpmn_files(files: list[tuple[str, bytes]], *, max_bytes: int) -> list[ParsedProcess]:
    """Parse the files of one upload together; return their executable processes or raise InvalidModel.

    PayloadTooLarge is raised for a file over `max_bytes`. All other problems of all files are collected and
    raised together (at most MAX_PROBLEMS), each naming the file and, where known, line and element id.
    """
    uploads, problems = _load(files, max_bytes)
    problems.extend(_check_references(uploads))
    _raise_if_any(problems)

    parser = VoronkaParser()
    for upload in uploads:
        try:
            parser.add_bpmn_xml(upload.tree, filename=upload.filename)
        except Exception as exc:  # the library's refusal of this input, whatever its type
            problems.append(_spiff_problem(exc, upload, upload.filename))
    _raise_if_any(problems)

    by_file = {upload.filename: upload for upload in uploads}
    parsed: list[ParsedProcess] = []
    for upload in uploads:
        for process in upload.executable():
            key = process.get("id")
            try:
                spec = parser.get_spec(key)
                subprocess_specs = parser.get_subprocess_specs(key)
            except Exception as exc:
                file_name = getattr(exc, "file_name", None) or upload.filename
                problems.append(_spiff_problem(exc, by_file.get(file_name, upload), upload.filename))
                continue
            parsed.append(
                ParsedProcess(
                    key=key,
                    name=process.get("name") or key,
                    filename=upload.filename,
                    xml=upload.data,
                    sha256=hashlib.sha256(upload.data).hexdigest(),
                    spec=spec,
                    subprocess_specs=subprocess_specs,
                    candidate_starter_groups=split_list(process.get(camunda("candidateStarterGroups"))),
                    candidate_starter_users=split_list(process.get(camunda("candidateStarterUsers"))),
                    start_form=_start_form(process),
                    user_tasks=_user_tasks(process, spec, subprocess_specs),
                )
            )
    _raise_if_any(problems)
    return parsed
