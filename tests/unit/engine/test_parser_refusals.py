"""Every bad upload is refused with the right error type, naming the file, and line and element if known."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.engine.parser import MAX_PROBLEMS, parse_bpmn_files
from app.errors import InvalidModel, PayloadTooLarge, VoronkaError
from tests.unit.engine.bpmn_factory import definitions, linear_process

with open("/etc/passwd", encoding="utf-8") as passwd:
    PASSWD_FIRST_LINE = passwd.readline().strip()


def refusal(files: list[tuple[str, bytes]], max_bytes: int = 100_000) -> VoronkaError:
    with pytest.raises(VoronkaError) as caught:
        parse_bpmn_files(files, max_bytes=max_bytes)
    return caught.value


@dataclass
class Bad:
    files: list[tuple[str, bytes]]
    error: type[VoronkaError]
    file: str
    line: int | None = None
    element_id: str | None = None
    says: str = ""
    max_bytes: int = 100_000


def one(middle: str, middle_id: str, **kwargs: str) -> list[tuple[str, bytes]]:
    return [("model.bpmn", linear_process(middle=middle, middle_id=middle_id, **kwargs))]


XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><documentation>&secret;</documentation>
</definitions>"""
XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY remote SYSTEM "http://127.0.0.1:9/evil.xml">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&remote;</definitions>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</definitions>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""
HIDDEN_IN_UTF16 = (
    '<?xml version="1.0" encoding="UTF-16"?>\n'
    '<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</definitions>'
).encode("utf-16")

LISTENER = (
    '<bpmn:userTask id="task"><bpmn:extensionElements><camunda:taskListener event="create">'
    '<camunda:script scriptFormat="javascript">task.setAssignee("x")</camunda:script>'
    "</camunda:taskListener></bpmn:extensionElements></bpmn:userTask>"
)

CASES: dict[str, Bad] = {
    "empty file": Bad([("empty.bpmn", b"")], InvalidModel, "empty.bpmn", says="empty"),
    "whitespace only": Bad([("blank.bpmn", b"  \n\t ")], InvalidModel, "blank.bpmn", says="empty"),
    "not xml": Bad(
        [("junk.bpmn", b"<a>\n<b>\n</a>")], InvalidModel, "junk.bpmn", line=3, says="not well-formed"
    ),
    "plain text": Bad(
        [("text.bpmn", b"hello, world")], InvalidModel, "text.bpmn", line=1, says="not well-formed"
    ),
    "html page": Bad(
        [("page.bpmn", b"<!DOCTYPE html>\n<html><body><p>Login</p></body></html>")],
        InvalidModel,
        "page.bpmn",
        line=1,
        says="HTML",
    ),
    "xhtml page": Bad([("x.bpmn", b"<html><body/></html>")], InvalidModel, "x.bpmn", line=1, says="HTML"),
    "xml that is not bpmn": Bad(
        [("pom.xml", b'<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"/>')],
        InvalidModel,
        "pom.xml",
        line=2,
        says="not a BPMN 2.0 file",
    ),
    "bpmn root in the wrong namespace": Bad(
        [("ns.bpmn", b'<definitions xmlns="urn:not-bpmn"/>')],
        InvalidModel,
        "ns.bpmn",
        line=1,
        says="root element",
    ),
    "schema error: sequence flow without source": Bad(
        one('<bpmn:userTask id="task"/>', "task", extra='<bpmn:sequenceFlow id="f3" targetRef="end"/>\n'),
        InvalidModel,
        "model.bpmn",
        line=9,
        element_id="f3",
        says="sourceRef",
    ),
    "foreign element in the process body": Bad(
        one('<bpmn:userTask id="task"/>', "task", extra='<x:thing xmlns:x="urn:x" id="t"/>\n'),
        InvalidModel,
        "model.bpmn",
        line=9,
        says="BPMN schema",
    ),
    "no executable process (attribute missing)": Bad(
        [("draft.bpmn", linear_process(executable=None))],
        InvalidModel,
        "draft.bpmn",
        says="isExecutable",
    ),
    "no executable process (false)": Bad(
        [("draft.bpmn", linear_process(executable="false"))],
        InvalidModel,
        "draft.bpmn",
        says="no executable",
    ),
    "complex gateway": Bad(
        one('<bpmn:complexGateway id="cg"/>', "cg"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="cg",
        says="bpmn:complexGateway is not supported",
    ),
    "element spiffworkflow rejects (script task without script)": Bad(
        one('<bpmn:scriptTask id="s" scriptFormat="python"/>', "s"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="s",
        says="No Script Provided",
    ),
    "xxe file entity": Bad([("xxe.bpmn", XXE_FILE)], InvalidModel, "xxe.bpmn", line=2, says="DOCTYPE"),
    "xxe network entity": Bad([("net.bpmn", XXE_NETWORK)], InvalidModel, "net.bpmn", line=2, says="DOCTYPE"),
    "billion laughs": Bad([("lol.bpmn", BILLION_LAUGHS)], InvalidModel, "lol.bpmn", line=2, says="ENTITY"),
    "parameter entity": Bad([("pe.bpmn", PARAMETER_ENTITY)], InvalidModel, "pe.bpmn", line=2, says="DOCTYPE"),
    "doctype hidden in utf-16": Bad([("u16.bpmn", HIDDEN_IN_UTF16)], InvalidModel, "u16.bpmn", line=2),
    "oversize file": Bad(
        [("big.bpmn", linear_process())],
        PayloadTooLarge,
        "big.bpmn",
        says="limit is 200 bytes",
        max_bytes=200,
    ),
    "duplicate process ids across files": Bad(
        [("one.bpmn", linear_process("deal")), ("two.bpmn", linear_process("deal"))],
        InvalidModel,
        "two.bpmn",
        line=3,
        element_id="deal",
        says="one.bpmn and two.bpmn",
    ),
    "unresolved call activity": Bad(
        one('<bpmn:callActivity id="call" calledElement="missing"/>', "call"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="call",
        says="'missing'",
    ),
    "call activity of a non-executable process": Bad(
        [
            (
                "caller.bpmn",
                definitions(
                    '<bpmn:process id="caller" isExecutable="true"><bpmn:startEvent id="s" />\n'
                    '<bpmn:callActivity id="c" calledElement="x"/>'
                    '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="c"/>'
                    '</bpmn:process>\n<bpmn:process id="x" isExecutable="false"/>'
                ),
            )
        ],
        InvalidModel,
        "caller.bpmn",
        line=4,
        element_id="c",
        says="not executable",
    ),
    "call activity with an expression": Bad(
        one('<bpmn:callActivity id="c" calledElement="${which}"/>', "c"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="c",
        says="calledElement",
    ),
    "camunda:class service task": Bad(
        one('<bpmn:serviceTask id="svc" camunda:class="com.acme.Send"/>', "svc"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="svc",
        says="Java delegates",
    ),
    "camunda:delegateExpression service task": Bad(
        one('<bpmn:serviceTask id="svc" camunda:delegateExpression="${mailer}"/>', "svc"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="svc",
        says='camunda:type="external"',
    ),
    "service task without implementation": Bad(
        one('<bpmn:serviceTask id="svc"/>', "svc"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="svc",
        says="no implementation",
    ),
    "external service task without topic": Bad(
        one('<bpmn:serviceTask id="svc" camunda:type="external"/>', "svc"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="svc",
        says="camunda:topic",
    ),
    "camunda connector": Bad(
        one(
            '<bpmn:serviceTask id="svc"><bpmn:extensionElements><camunda:connector>'
            "<camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>"
            "</bpmn:extensionElements></bpmn:serviceTask>",
            "svc",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="svc",
        says="connectors",
    ),
    "groovy script task": Bad(
        one(
            '<bpmn:scriptTask id="s" scriptFormat="groovy">'
            "<bpmn:script>println 1</bpmn:script></bpmn:scriptTask>",
            "s",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="s",
        says="Python-subset expression script",
    ),
    "javascript script task": Bad(
        one(
            '<bpmn:scriptTask id="s" scriptFormat="JavaScript"><bpmn:script>1</bpmn:script>'
            "</bpmn:scriptTask>",
            "s",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="s",
        says="external task",
    ),
    "task listener with a script": Bad(
        one(LISTENER, "task"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="task",
        says="taskListener (script)",
    ),
    "execution listener with a class": Bad(
        one(
            '<bpmn:userTask id="task"><bpmn:extensionElements>'
            '<camunda:executionListener class="com.acme.Audit" event="end"/>'
            "</bpmn:extensionElements></bpmn:userTask>",
            "task",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="task",
        says="executionListener (class)",
    ),
    "dmn business rule task": Bad(
        one('<bpmn:businessRuleTask id="rule"/>', "rule"),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="rule",
        says="names no decision",
    ),
    "groovy condition": Bad(
        one(
            '<bpmn:userTask id="task"/>',
            "task",
            extra='<bpmn:sequenceFlow id="f3" sourceRef="task" targetRef="end"><bpmn:conditionExpression '
            'xsi:type="bpmn:tFormalExpression" language="groovy">x &gt; 1</bpmn:conditionExpression>'
            "</bpmn:sequenceFlow>\n",
        ),
        InvalidModel,
        "model.bpmn",
        line=9,
        element_id="f3",
        says='language "groovy"',
    ),
    "compensation event": Bad(
        one(
            '<bpmn:intermediateThrowEvent id="comp">'
            "<bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>",
            "comp",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="comp",
        says="compensate event definition",
    ),
    "custom java form validator": Bad(
        one(
            '<bpmn:userTask id="task"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="iban" type="string"><camunda:validation>'
            '<camunda:constraint name="validator" config="com.acme.Iban"/>'
            "</camunda:validation></camunda:formField></camunda:formData></bpmn:extensionElements></bpmn:userTask>",
            "task",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="task",
        says="custom validators",
    ),
    "script in an input parameter": Bad(
        one(
            '<bpmn:userTask id="task"><bpmn:extensionElements><camunda:inputOutput>'
            '<camunda:inputParameter name="a"><camunda:script scriptFormat="groovy">1</camunda:script>'
            '</camunda:inputParameter>'
            "</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>",
            "task",
        ),
        InvalidModel,
        "model.bpmn",
        line=5,
        element_id="task",
        says="scripts in input/output parameters",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_upload_is_refused_with_its_location(case: Bad) -> None:
    error = refusal(case.files, case.max_bytes)
    assert type(error) is case.error
    assert error.problems, "a refusal always lists at least one located problem"
    problem = error.problems[0]
    assert problem.file == case.file
    assert case.file in error.detail
    if case.line is not None:
        assert problem.line == case.line
    if case.element_id is not None:
        assert problem.element_id == case.element_id
    assert case.says in problem.message


@pytest.mark.parametrize("name", ["xxe file entity", "parameter entity", "doctype hidden in utf-16"])
def test_entity_tricks_never_leak_file_contents(name: str) -> None:
    error = refusal(CASES[name].files)
    everything = repr(error.detail) + repr([p.as_dict() for p in error.problems]) + repr(error.args)
    assert PASSWD_FIRST_LINE not in everything
    assert "root:" not in everything


def test_all_problems_of_a_file_are_reported_together() -> None:
    middle = (
        '<bpmn:serviceTask id="a" camunda:class="com.acme.A"/>'
        '<bpmn:scriptTask id="b" scriptFormat="groovy"><bpmn:script>1</bpmn:script></bpmn:scriptTask>'
    )
    extra = '<bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="b"/>\n'
    error = refusal([("model.bpmn", linear_process(middle=middle, middle_id="a", extra=extra))])
    assert [p.element_id for p in error.problems] == ["a", "b"]
    assert "2 problems" in error.detail


def test_problems_of_several_files_are_reported_together() -> None:
    error = refusal(
        [("empty.bpmn", b""), ("java.bpmn", one('<bpmn:serviceTask id="s" camunda:class="X"/>', "s")[0][1])]
    )
    assert [(p.file, p.element_id) for p in error.problems] == [("empty.bpmn", None), ("java.bpmn", "s")]


def test_problem_list_is_capped() -> None:
    tasks = "".join(f'<bpmn:serviceTask id="s{i}" camunda:class="X"/>' for i in range(30))
    error = refusal([("many.bpmn", linear_process(middle=tasks, middle_id="s0"))], max_bytes=1_000_000)
    assert len(error.problems) == MAX_PROBLEMS
    assert "30 problems" in error.detail


def test_schema_errors_are_all_reported_with_lines() -> None:
    extra = '<bpmn:sequenceFlow id="f3" targetRef="end"/>\n<bpmn:sequenceFlow id="f4" sourceRef="end"/>\n'
    error = refusal([("model.bpmn", linear_process(extra=extra))])
    assert [p.line for p in error.problems] == [9, 10]


def test_refusal_of_one_file_refuses_the_whole_upload() -> None:
    good = ("good.bpmn", linear_process("good"))
    bad = (
        "bad.bpmn",
        definitions("<bpmn:process id='bad' isExecutable='true'><bpmn:serviceTask id='s'/></bpmn:process>"),
    )
    error = refusal([good, bad])
    assert {p.file for p in error.problems} == {"bad.bpmn"}
