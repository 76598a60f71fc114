"""How a model names its data: form field labels and enum option names from the definition's BPMN, so pages show
"Компания: ООО «Ромашка»" and "Источник: Выставка" instead of `company` and `exhibition`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from app.auth.actor import Actor
from app.engine.extensions import CAMUNDA_NS, read_form_field
from app.engine.xml import parse_xml
from app.errors import InvalidModel
from app.services import deployments
from app.services.context import AppContext
from app.services.documents import is_file_value
from app.ui.i18n import Formatter

_MAX_XML = 50_000_000


@dataclass
class Vocabulary:
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, str]] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return self.labels.get(name) or name

    def show(self, name: str, value: Any, fmt: Formatter) -> str:
        if is_file_value(value):
            return ", ".join(str(ref.get("name")) for ref in value)
        named = self.options.get(name, {}).get(value) if isinstance(value, str) else None
        return named or fmt.value(value)


def vocabulary_of_xml(xml: str) -> Vocabulary:
    vocabulary = Vocabulary()
    try:
        tree = parse_xml(xml.encode("utf-8"), filename="definition.bpmn", max_bytes=_MAX_XML)
    except InvalidModel:
        return vocabulary
    for element in tree.iter(f"{{{CAMUNDA_NS}}}formField"):
        spec = read_form_field(element)
        name = spec.get("id")
        if not name:
            continue
        if spec.get("label"):
            vocabulary.labels.setdefault(name, spec["label"])
        for option in spec.get("options") or []:
            if option.get("id") and option.get("name"):
                vocabulary.options.setdefault(name, {}).setdefault(option["id"], option["name"])
    return vocabulary


class VocabularyCache:
    """A deployed definition never changes: read its vocabulary once per process."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[str, Vocabulary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ctx: AppContext, actor: Actor, definition_id: str) -> Vocabulary:
        with self._lock:
            found = self._items.get(definition_id)
        if found is not None:
            return found
        definition = deployments.get_definition(ctx, actor=actor, definition_id=definition_id)
        vocabulary = vocabulary_of_xml(definition.xml)
        with self._lock:
            self._items[definition_id] = vocabulary
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vocabulary


vocabularies = VocabularyCache()
