"""Hardened parsing of uploaded BPMN bytes: no DTDs, no entities, no network, a size limit.

Every uploaded model passes through `parse_xml` before anything else (SpiffWorkflow included) sees it.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from app.errors import InvalidModel, PayloadTooLarge, Problem

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMN_DEFINITIONS = f"{{{BPMN_MODEL_NS}}}definitions"

# Byte-order marks and the bare "<?" / "<" patterns of the wide encodings, so the prolog scan reads what
# libxml2 will read (a DOCTYPE written in UTF-16 must not slip past a byte search).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_NO_BOM: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_PROLOG_SKIP = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def _make_parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep per-document state and are not meant to be shared by threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _decode_for_scan(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    for prefix, encoding in _WIDE_NO_BOM:
        if data.startswith(prefix):
            return data.decode(encoding, errors="replace")
    # ASCII-compatible encodings (UTF-8, cp1251, KOI8-R, latin-1) all spell "<!DOCTYPE" in the same bytes.
    return data.decode("latin-1")


def _find_doctype(text: str) -> int | None:
    """Offset of a DOCTYPE in the prolog (the only place one may stand), or None."""
    pos = 0
    while True:
        match = _PROLOG_SKIP.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
    return pos if text[pos : pos + 9].upper() == "<!DOCTYPE" else None


def _refuse_doctype(text: str, offset: int, filename: str) -> InvalidModel:
    line = text.count("\n", 0, offset) + 1
    if re.match(r"<!DOCTYPE\s+html\b", text[offset : offset + 40], re.IGNORECASE):
        message = "this is an HTML page, not a BPMN file"
    else:
        message = (
            "DOCTYPE and ENTITY declarations are not allowed in BPMN uploads "
            "(entities can read server files or exhaust memory); remove the <!DOCTYPE ...> block"
        )
    return InvalidModel(f"{filename}: {message}", problems=[Problem(message, file=filename, line=line)])


def parse_xml(data: bytes, *, filename: str, max_bytes: int,
              roots: frozenset[str] = frozenset({BPMN_DEFINITIONS})) -> etree._ElementTree:
    """Parse one uploaded file safely and check that its root is one of `roots` (default: BPMN `definitions`).

    Raises PayloadTooLarge over `max_bytes`, InvalidModel for anything else wrong (with file and line).
    """
    if len(data) > max_bytes:
        message = f"file is {len(data)} bytes, the limit is {max_bytes} bytes"
        raise PayloadTooLarge(f"{filename}: {message}", problems=[Problem(message, file=filename)])
    if not data.strip():
        message = "file is empty"
        raise InvalidModel(f"{filename}: {message}", problems=[Problem(message, file=filename)])

    text = _decode_for_scan(data)
    doctype_at = _find_doctype(text)
    if doctype_at is not None:
        raise _refuse_doctype(text, doctype_at, filename)

    try:
        root = etree.fromstring(data, _make_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, None)
        message = f"not well-formed XML: {exc.msg}"
        if column and "line" not in exc.msg:
            message += f" (line {line}, column {column})"
        raise InvalidModel(
            f"{filename}: {message}", problems=[Problem(message, file=filename, line=line)]
        ) from None
    if root is None:
        message = "file holds no XML element"
        raise InvalidModel(f"{filename}: {message}", problems=[Problem(message, file=filename)])

    tree = root.getroottree()
    # Second line of defence for encodings the prolog scan cannot read (EBCDIC and the like).
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _refuse_doctype("<!DOCTYPE", 0, filename)

    if root.tag not in roots:
        tag = root.tag if isinstance(root.tag, str) else "?"
        if etree.QName(root).localname.lower() == "html":
            message = "this is an HTML page, not a BPMN file"
        else:
            message = (
                f"not a BPMN 2.0 file: the root element is <{tag}>, "
                f"expected <definitions> in namespace {BPMN_MODEL_NS}"
            )
        raise InvalidModel(
            f"{filename}: {message}", problems=[Problem(message, file=filename, line=root.sourceline)]
        )
    return tree


def utf8_text(data: bytes, *, filename: str) -> str:
    """The document as text for storage and serving: UTF-8 files as they are, other encodings (UTF-16,
    windows-1251, ...) re-serialized as UTF-8 with a matching declaration."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        tree = parse_xml(data, filename=filename, max_bytes=len(data) + 1)
        return etree.tostring(tree, encoding="UTF-8", xml_declaration=True).decode("utf-8")
