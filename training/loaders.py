"""Row readers for labelled comment files: CSV, JSONL and WordPress WXR exports.

Every reader yields plain dicts with ``text`` and ``label`` plus the optional
comment fields (``author_name``, ``author_email``, ``author_url``,
``author_ip``, ``post``); ``training.datasets`` maps labels and builds sources.

WXR (what WordPress's Tools -> Export writes) is untrusted XML, so it is read
with expat directly and any DOCTYPE or entity declaration is refused: no
entity expansion (billion laughs), no external entities, no DTD fetches.
Label mapping of ``wp:comment_approved``:

* ``1`` (approved) -> ``ham``
* ``spam`` -> ``spam``
* ``0`` (pending) and ``trash`` -> skipped: nobody has judged a pending
  comment, and WordPress moderators trash spam and off-topic-but-human
  comments alike, so neither is a trustworthy label.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.parsers import expat

__all__ = [
    "COMMENT_FIELDS", "WXR_LABELS", "UnsafeXML", "parse_wxr", "read_csv", "read_jsonl", "read_rows", "read_wxr",
]  # fmt: skip

COMMENT_FIELDS = ("author_name", "author_email", "author_url", "author_ip", "post")
# shared/data CSVs call the name `author`; WordPress calls it comment_author.
_ALIASES = {"author": "author_name", "comment_author": "author_name", "comment_author_email": "author_email",
            "comment_author_url": "author_url", "comment_author_ip": "author_ip", "video_id": "post"}  # fmt: skip
WXR_LABELS = {"1": "ham", "spam": "spam"}
_WP_NS = "http://wordpress.org/export/"
_WXR_FIELDS = {
    "comment_author": "author_name", "comment_author_email": "author_email", "comment_author_url": "author_url",
    "comment_author_IP": "author_ip", "comment_content": "text", "comment_approved": "approved",
}  # fmt: skip


class UnsafeXML(ValueError):
    """The XML declares a DTD or entities, which an export never needs (refused, not expanded)."""


def _comment_fields(row: dict[str, Any]) -> dict[str, str]:
    """The text, label and optional comment fields of one raw row, as strings ('' when absent)."""
    out = {"text": str(row.get("text") or ""), "label": str(row.get("label") or "")}
    for key, value in row.items():
        name = _ALIASES.get(str(key).lower(), str(key).lower())
        if name in COMMENT_FIELDS and value is not None and not out.get(name):
            out[name] = str(value)
    return out


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of a UTF-8 CSV with a header that has ``text`` and ``label`` (texts may span lines)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "text" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ValueError(f"{path}: needs a header with 'text' and 'label' columns")
        for row in reader:
            yield _comment_fields(row)


def read_jsonl(path: Path) -> Iterator[dict[str, str]]:
    """Yield one row per JSON object line (``{"text": ..., "label": ...}``); blank lines are skipped."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or "text" not in obj or "label" not in obj:
                raise ValueError(f"{path}:{number}: needs an object with 'text' and 'label'")
            if not isinstance(obj["text"], str):
                raise ValueError(f"{path}:{number}: 'text' must be a string")
            yield _comment_fields(obj)


class _WxrHandler:
    """Collects the ``wp:comment`` elements of a WXR stream (expat callbacks)."""

    def __init__(self) -> None:
        """Start outside any item or comment."""
        self.comments: list[dict[str, str]] = []
        self.post = ""
        self.comment: dict[str, str] | None = None
        self.field: str | None = None
        self.buffer: list[str] = []

    @staticmethod
    def _wp(name: str) -> str | None:
        """The local name of a WordPress-namespace element ('namespace local' from expat), else None."""
        ns, _, local = name.rpartition(" ")
        return local if ns.startswith(_WP_NS) else None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Open an item, a comment or one of the comment's fields."""
        local = self._wp(name)
        if name == "item":
            self.post = ""
        elif local == "comment":
            self.comment = {"post": self.post}
        elif local == "post_id" and self.comment is None:
            self.field, self.buffer = "post", []
        elif self.comment is not None and local in _WXR_FIELDS:
            self.field, self.buffer = _WXR_FIELDS[local], []

    def end(self, name: str) -> None:
        """Close a field (store its text) or a comment (keep it)."""
        local = self._wp(name)
        if self.field is not None and (local in _WXR_FIELDS or local == "post_id"):
            value = "".join(self.buffer).strip()
            if self.field == "post":
                self.post = value
            elif self.comment is not None:
                self.comment[self.field] = value
            self.field = None
        elif local == "comment" and self.comment is not None:
            self.comments.append(self.comment)
            self.comment = None

    def data(self, text: str) -> None:
        """Collect character data (CDATA included) of the open field."""
        if self.field is not None:
            self.buffer.append(text)


def _refuse(*_: Any) -> int:
    """Expat callback for DTDs and entity declarations: refuse the document (never returns)."""
    raise UnsafeXML("DOCTYPE and entity declarations are not allowed in a WXR export")


def parse_wxr(data: bytes) -> list[dict[str, str]]:
    """Every ``wp:comment`` of a WXR document as a dict (text, approved, author fields, post)."""
    handler = _WxrHandler()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    return handler.comments


def read_wxr(path: Path) -> Iterator[dict[str, str]]:
    """Yield the judged comments of a WordPress export: approved -> ham, spam -> spam (pending/trash skipped)."""
    try:
        comments = parse_wxr(path.read_bytes())
    except ValueError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    for comment in comments:
        label = WXR_LABELS.get(comment.get("approved", "").strip().lower())
        if label is not None:
            yield {**{k: v for k, v in comment.items() if k != "approved"}, "label": label}


def read_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """Rows of a labelled file, by extension: .csv, .jsonl (or .ndjson), .xml (WordPress WXR)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    if suffix == ".xml":
        return read_wxr(path)
    raise ValueError(f"{path}: unknown training file type {suffix or '(none)'} (use .csv, .jsonl or .xml)")
