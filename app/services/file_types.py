"""What a file really is, from its first bytes (never from its name), and a safe name to keep for it."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),  # OLE2: .doc and .xls alike
]
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<svg|<\?xml)", re.IGNORECASE)
MAX_NAME = 200
_ESCAPED = re.compile(r"%([01][0-9A-Fa-f]|22|7[Ff])")


def sniff(head: bytes, path: Path | None = None) -> str:
    """The content type of a file from its first bytes; ZIP containers are opened to tell OOXML/ODF apart."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04") and path is not None:
        return _zip_kind(path)
    if _HTML.match(head[:512]):
        return "text/html"
    if _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if mimetype.startswith("application/vnd.oasis.opendocument."):
                    return mimetype
    except (zipfile.BadZipFile, OSError, KeyError):
        return "application/octet-stream"
    for prefix, kind in OOXML.items():
        if any(n.startswith(prefix) for n in names):
            return kind
    return "application/zip"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp1251"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(head) - 3:
                return True  # a multibyte character cut at the end of the sample
            continue
        return True
    return False


def safe_name(name: str | None) -> str:
    """The last path component, without control characters, leading dots or reserved characters, at most
    200 characters (the extension kept)."""
    # Browsers and HTTP clients escape control characters and quotes in multipart names (HTML spec): undo that
    # first so the escapes are removed with the characters, not kept as "%0D%0A".
    name = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if not name:
        return "file"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = (stem if ext else name)[: MAX_NAME - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name


def attachment_headers(name: str, size: int, sha256: str) -> dict[str, str]:
    """How every stored file is served (native API, Camunda dialect): a download, never a page."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "ETag": f'"{sha256}"',
        "Cache-Control": "private, no-cache",
    }
