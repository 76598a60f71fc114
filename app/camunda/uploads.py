"""Multipart deployments as Camunda clients send them: one part per file, named after the file (Camunda
Modeler), `resource-N` (pycamunda) or `resources` (Camunda 8); the other parts are options."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.errors import InvalidInput, PayloadTooLarge, Problem
from app.settings import Settings

# What each kind of file is to us: BPMN and DMN are deployed, CMMN is refused, the rest is ignored (see docs).
_REFUSED = {
    ".cmmn": "CMMN case models are not supported: Voronka runs BPMN processes and DMN decision tables",
}
_BPMN = (".bpmn", ".bpmn20.xml", ".xml")
# Camunda Forms (.form) and diagram images are accepted and ignored: forms are rendered from camunda:formData.
_IGNORED = (".form", ".png", ".svg", ".jpg", ".jpeg", ".gif", ".html", ".md", ".txt", ".json")


@dataclass
class MultipartDeployment:
    options: dict[str, str] = field(default_factory=dict)
    bpmn: list[tuple[str, bytes]] = field(default_factory=list)  # the models: .bpmn and .dmn files
    ignored: list[str] = field(default_factory=list)


def kind_of(filename: str) -> str:
    name = filename.lower()
    for suffix in _REFUSED:
        if name.endswith(suffix) or name.endswith(suffix + "11.xml"):
            return "refused"
    if name.endswith(_IGNORED):
        return "ignored"
    return "bpmn"  # .bpmn, .bpmn20.xml, or no telling suffix: the parser checks it is BPMN


async def read_deployment(request: Request, settings: Settings) -> MultipartDeployment:
    """Read the parts of a deployment request, each file up to the upload limit."""
    try:
        form = await request.form(max_files=settings.max_upload_files + 10, max_fields=100)
    except Exception as exc:  # malformed multipart, or more parts than allowed
        raise InvalidInput(f"cannot read the multipart request: {exc}") from None
    result = MultipartDeployment()
    refused: list[Problem] = []
    try:
        for name, value in form.multi_items():
            if not isinstance(value, UploadFile):
                result.options[name] = str(value)
                continue
            filename = value.filename or name
            kind = kind_of(filename)
            if kind == "ignored":
                result.ignored.append(filename)
                continue
            if kind == "refused":
                reason = next(why for suffix, why in _REFUSED.items() if suffix in filename.lower())
                refused.append(Problem(reason, file=filename))
                continue
            data = await value.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise PayloadTooLarge(f"{filename} is larger than the limit of {settings.max_upload_bytes} bytes",
                                      problems=[Problem("file too large", file=filename)])
            result.bpmn.append((filename, data))
    finally:
        await form.close()
    if refused:
        raise InvalidInput("; ".join(f"{p.file}: {p.message}" for p in refused), problems=refused)
    if not result.bpmn:
        raise InvalidInput("the deployment holds no BPMN or DMN file: add a part with a .bpmn or .dmn file")
    return result


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
