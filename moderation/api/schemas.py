"""Validation of intake items with pydantic; errors come back in the contract's shape."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from moderation.api.errors import ApiError

REVISION_MAX = 2**31 - 1
"""The highest revision number (a 32-bit INTEGER column on PostgreSQL)."""

PAGE_MAX = 200
"""The most items one list page of the API (the review queue, suggestions) may ask for (?limit=)."""


def _id_text(value: Any) -> Any:
    """Ids may be sent as strings or whole numbers (WordPress ids are numbers); bools are not ids."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


NON_BLANK = r"[^\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
"""At least one character that is neither Python whitespace (str.isspace) nor ECMAScript whitespace (\\s).

Spelled out rather than written \\S because \\S differs between readings: Python's Unicode \\s, ECMAScript's
(which adds U+FEFF and lacks U+001C-U+001F and U+0085) and the ASCII-only reading some JSON Schema tools use.
The published OpenAPI pattern and every handler check use this one class, so they agree on every input."""

_NON_BLANK = re.compile(NON_BLANK)


def is_blank(text: str) -> bool:
    """True when `text` has no character NON_BLANK admits (empty, or only whitespace/BOM)."""
    return _NON_BLANK.search(text) is None


NO_NUL = r"^[^\x00]*$"
"""Text without U+0000: PostgreSQL's text types cannot hold it, so no backend takes it (the OpenAPI pattern too)."""

NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def has_nul(text: str) -> bool:
    """True when `text` holds U+0000 (refused everywhere, whatever the backend)."""
    return "\x00" in text


def nul_fields(values: dict[str, Any]) -> dict[str, str]:
    """{name: NUL_MESSAGE} for each text value holding U+0000 (for an error's ``fields``)."""
    return {name: NUL_MESSAGE for name, value in values.items() if isinstance(value, str) and has_nul(value)}


def _timestamp_text(value: Any) -> Any:
    """created_at is an ISO-8601 string (contract and OpenAPI); lax pydantic would also take bare numbers."""
    if value is not None and not isinstance(value, str):
        raise ValueError("must be an ISO-8601 date-time string")
    return value


def _whole_number(value: Any) -> Any:
    """JSON Schema's integers include 3.0 (a number with no fraction); bools and 1.5 stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


ExternalId = Annotated[str, BeforeValidator(_id_text), StringConstraints(strip_whitespace=True, min_length=1,
                                                                         max_length=255, pattern=NON_BLANK)]
Short = Annotated[str, StringConstraints(max_length=255)]
Url = Annotated[str, StringConstraints(max_length=2048)]


class _Strict(BaseModel):
    """Unknown fields are ignored (sites may send more); known ones are type-checked without coercion."""

    # python-re: patterns are checked by the same engine as is_blank(), so the two can never disagree.
    model_config = ConfigDict(extra="ignore", strict=True, regex_engine="python-re")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """Every known text field refuses U+0000 (openapi.py publishes the same rule as a pattern)."""
        if isinstance(value, str) and has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


class Author(_Strict):
    """Who wrote the comment, as the site knows them."""

    name: Short | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    url: Url | None = None
    ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None
    verified: bool | None = None
    """The site vouches for this author (a logged-in user); allow rules on typed fields need it."""
    user_id: ExternalId | None = None
    """The site's own user id for the author (a logged-in user): earned trust is kept under it, else the e-mail."""


class Post(_Strict):
    """The article the comment is under."""

    id: ExternalId | None = None
    url: Url | None = None
    title: Annotated[str, StringConstraints(max_length=1024)] | None = None


class CommentIn(_Strict):
    """One comment as a site posts it; only ``id`` and ``content`` are required."""

    id: ExternalId
    content: Annotated[str, StringConstraints(pattern=NON_BLANK)]
    author: Author | None = None
    post: Post | None = None
    parent_id: ExternalId | None = None
    created_at: Annotated[datetime, BeforeValidator(_timestamp_text), Field(strict=False)] | None = None
    lang: Annotated[str, StringConstraints(max_length=16)] | None = None
    revision: Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=REVISION_MAX)] | None = None
    """The site's revision of this comment: the same id with a higher revision is an edit, scored again."""


def _fields(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as {"author.email": "message"}."""
    return {".".join(str(p) for p in err["loc"]) or "body": err["msg"] for err in exc.errors()}


def parse_item(data: Any, max_chars: int) -> dict[str, Any]:
    """Validate one item and flatten it to comment columns; raises ApiError (400/422)."""
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "a comment must be a JSON object")
    try:
        item = CommentIn.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_fields", "some fields are missing or have the wrong type", _fields(exc)) from None
    if len(item.content) > max_chars:
        raise ApiError(422, "content_too_long", f"content is over {max_chars} characters",
                       {"content": f"{len(item.content)} characters"})
    if is_blank(item.content):
        raise ApiError(422, "invalid_fields", "content is empty", {"content": "must not be empty"})
    author, post = item.author or Author(), item.post or Post()
    return {
        "external_id": item.id, "content": item.content, "author_name": author.name,
        "author_email": author.email, "author_url": author.url, "author_ip": author.ip,
        "user_agent": author.user_agent, "author_verified": bool(author.verified), "author_user_id": author.user_id,
        "post_id": post.id,
        "post_url": post.url,
        "post_title": post.title, "parent_id": item.parent_id, "lang": item.lang,
        "created_at": item.created_at, "revision": item.revision,
    }
