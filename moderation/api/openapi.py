"""The OpenAPI 3.1 document for /api/v1, built from code and served at ``/api/v1/openapi.json``.

The intake request schemas come from the pydantic models that validate intake
(``moderation.api.schemas``), and the limits (content length, batch size, body
size) from the running app's settings, so the document cannot drift from what
the service enforces. tests/test_openapi.py checks it against ``app.url_map``;
tests/test_schemathesis.py fuzzes a live server with it.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from moderation.api import bp
from moderation.api.schemas import NO_NUL, NON_BLANK, PAGE_MAX, REVISION_MAX, CommentIn
from moderation.api.verdicts import SOURCE_MAX
from moderation.decide.rules import KINDS
from moderation.decide.states import Status
from moderation.delivery import signing
from moderation.services import get_services
from moderation.store.models import MAX_ID
from moderation.store.review import FLAG_REASONS
from moderation.store.shadow import VERDICTS
from moderation.store.sites import ALERT_EMAIL_CHARS, ALERT_EMAILS_MAX, ALERT_WEBHOOK_CHARS, MODES
from moderation.store.teaching import SPOT_CHECKS

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


_NOT_SCHEMAS = frozenset({"enum", "const", "required", "default", "examples", "example", "description"})
"""Keywords whose values are data, not subschemas (the NUL rule never rewrites inside them)."""


def _no_nul(schema: Any) -> Any:
    """The schema with every free-text string refusing U+0000, as every handler does (PostgreSQL cannot store it).

    A string that already has a pattern keeps it and gains the NUL rule through ``allOf`` (JSON Schema takes
    one pattern per schema; schemathesis draws from one pattern and filters by the other). Enumerations,
    constants and formatted strings are left alone: NUL is never one of their values.
    """
    if isinstance(schema, list):
        return [_no_nul(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in _NOT_SCHEMAS else _no_nul(v) for k, v in schema.items()}
    if out.get("type") == "string" and not {"enum", "const", "format"} & out.keys():
        if "pattern" in out:
            out["allOf"] = [*out.get("allOf", []), {"pattern": out.pop("pattern")}, {"pattern": NO_NUL}]
        else:
            out["pattern"] = NO_NUL
    return out


def _requests_without_nul(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation's parameters and request body under the NUL rule (responses are left as they are)."""
    return {path: {method: {k: _no_nul(v) if k in ("parameters", "requestBody") else v for k, v in op.items()}
                   for method, op in methods.items()} for path, methods in paths.items()}


def _external_id(nullable: bool) -> dict[str, Any]:
    """The site's own ids: text, or whole numbers (WordPress sends numbers; schemas.ExternalId turns them to text)."""
    schema = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255, "pattern": NON_BLANK},
                        {"type": "integer"}]}
    return {"anyOf": [*schema["anyOf"], {"type": "null"}]} if nullable else schema


def _comment_in(max_chars: int) -> dict[str, dict[str, Any]]:
    """CommentIn, Author and Post from the pydantic models, with what their validators add."""
    schema = CommentIn.model_json_schema(ref_template=REF)
    defs = schema.pop("$defs", {})
    props = schema["properties"]
    props["id"] = _external_id(nullable=False)
    props["parent_id"] = _external_id(nullable=True)
    props["content"] = {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": NON_BLANK,
                        "description": f"The comment text; over {max_chars} characters is a 422."}
    props["created_at"] = _nullable({"type": "string", "format": "date-time"})
    defs["Post"]["properties"]["id"] = _external_id(nullable=True)
    props["revision"] = _nullable({"type": "integer", "minimum": 0, "maximum": REVISION_MAX,
                                   "description": "The site's revision of the text: a known id sent with a higher "
                                                  "revision is an edit, scored again (200); an equal or lower one "
                                                  "changes nothing."})
    defs["Author"]["properties"]["user_id"] = _external_id(nullable=True)
    edit = copy.deepcopy(schema)
    edit["required"] = [name for name in edit["required"] if name != "id"]
    edit["properties"]["id"] = {**_external_id(nullable=False), "description": "Optional: the comment's own "
                                "external id (another one is a 422)."}
    edit["properties"]["revision"] = {**props["revision"], "description": "Optional: without it the next "
                                      "revision; one not above the stored revision changes nothing."}
    edit["title"] = "CommentEdit"
    return {"CommentIn": schema, "CommentEdit": edit, **defs}


def _error_schemas() -> dict[str, dict[str, Any]]:
    """The contract's error shape."""
    return {"Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
        }},
    }}


def _view_schemas() -> dict[str, dict[str, Any]]:
    """What the site API answers: a comment's decision, a batch, a report."""
    time = _nullable({"type": "string", "format": "date-time"})
    view = {
        "type": "object", "required": ["id", "external_id", "status", "scores", "reasons", "model_version",
                                       "decided_by", "decided_at"],
        "properties": {
            "id": {"type": "string"}, "external_id": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "scores": _nullable({"type": "object", "required": ["spam", "abusive"],
                                 "properties": {"spam": {"type": "number", "minimum": 0, "maximum": 1},
                                                "abusive": {"type": "number", "minimum": 0, "maximum": 1}}}),
            "reasons": {"type": "array", "items": {"type": "object", "required": ["code"],
                                                   "properties": {"code": {"type": "string"}}}},
            "model_version": _nullable({"type": "string"}),
            "decided_by": _nullable({"type": "string", "pattern": "^(model|rule|moderator:.+)$"}),
            "decided_at": time, "received_at": time,
            "revision": {"type": "integer", "minimum": 0, "maximum": REVISION_MAX,
                         "description": "The revision of the text the decision is about (0: as first sent)."},
            "mode": {"enum": list(MODES), "description": "The site's mode: in shadow the site never applies our "
                     "decision (a trial beside its own filter)."},
        },
    }
    item_ok = {"allOf": [_ref("CommentView"), {"type": "object", "required": ["code"],
                                               "properties": {"code": {"enum": [200, 202]}}}]}
    item_refused = {"allOf": [_ref("Error"), {"type": "object", "required": ["code"],
                                              "properties": {"code": {"type": "integer", "minimum": 400,
                                                                      "maximum": 499}}}]}
    return {
        "CommentView": view,
        "BatchResults": {"type": "object", "required": ["results"], "properties": {
            "results": {"type": "array", "items": {"anyOf": [item_ok, item_refused]}}}},
        "FlagAccepted": {"type": "object", "required": ["id", "flagged", "counted"], "properties": {
            "id": {"type": "string"}, "flagged": {"const": True}, "counted": {"type": "boolean"}}},
        "VerdictStored": {"type": "object", "required": ["id", "verdict", "source", "status", "mode", "reported_at"],
                          "properties": {"id": {"type": "string"}, "verdict": {"enum": list(VERDICTS)},
                                         "source": _nullable({"type": "string"}),
                                         "status": {"type": "string", "enum": [s.value for s in Status]},
                                         "mode": {"enum": list(MODES)},
                                         "reported_at": {"type": "string", "format": "date-time"}}},
    }


def _request_schemas(settings: Any) -> dict[str, dict[str, Any]]:
    """Batch envelope and reader report (flags.py validates by hand; this mirrors its checks)."""
    max_items = settings["intake.batch_max_items"]
    return {
        "BatchIn": {"type": "object", "required": ["comments"], "properties": {"comments": {
            "type": "array", "minItems": 1, "maxItems": max_items,
            "description": "Each item is checked on its own: a bad item is refused in its own slot (with its "
                           "code and error), the others are still taken; the answer is 207 when items differ.",
            "items": _ref("CommentIn"),
        }}},
        "FlagIn": {"type": "object", "required": ["reason"], "properties": {
            "reason": {"enum": list(FLAG_REASONS)},
            "reporter": {"anyOf": [{"type": "string", "maxLength": 255, "pattern": NON_BLANK}, {"type": "integer"},
                                   {"type": "null"}]},
            "note": _nullable({"type": "string", "maxLength": 2000}),
        }},
        "VerdictIn": {"type": "object", "required": ["verdict"], "properties": {
            "verdict": {"enum": list(VERDICTS), "description": "What the site finally did with the comment."},
            "source": _nullable({"type": "string", "maxLength": SOURCE_MAX, "pattern": NON_BLANK,
                                 "description": "Who decided on the site (moderator, akismet, ...)."}),
        }},
    }


def _resp(description: str, schema: str | None = "Error", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """One documented response."""
    out: dict[str, Any] = {"description": description}
    if schema:
        out["content"] = {"application/json": {"schema": _ref(schema)}}
    if headers:
        out["headers"] = headers
    return out


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}


def _site_errors(*codes: int) -> dict[str, Any]:
    """The error answers every signed request may get, plus the given ones.

    413 is among them: the signature covers the body, so every signed request reads it, GETs included."""
    text = {400: "Malformed JSON or body.", 401: "Missing, stale or wrong signature (nothing changed).",
            404: "No such comment for this site.", 405: "Method not allowed.", 413: "Body over the size limit.",
            415: "Content-Type is not application/json.", 422: "A field is missing, wrong-typed or too long.",
            429: "Over the site's or the commenter IP's rate limit.",
            409: "Other edits of the same comment kept landing first; nothing of this one changed, send it again.",
            503: "An edit could not be scored now (no usable model); nothing changed, send it again."}
    out = {str(c): _resp(text[c], headers=RETRY_AFTER if c == 429 else None) for c in (401, 413, 429, *codes)}
    return dict(sorted(out.items()))


def _body(schema: str) -> dict[str, Any]:
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


PATH_ID = {"name": "comment_id", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^[^/]+$"}, "description": "The service's comment id."}


def _site_paths() -> dict[str, Any]:
    """The signed site API."""
    view = _resp("The comment as it stands now.", "CommentView")
    return {
        "/api/v1/comments": {
            "post": {"operationId": "createComment", "tags": ["site"], "requestBody": _body("CommentIn"),
                     "responses": {"202": _resp("Stored durably and queued for scoring.", "CommentView"),
                                   "200": _resp("This site sent this id before: not scored twice, unless it carries "
                                                "a higher revision (an edit, scored again).", "CommentView"),
                                   **_site_errors(400, 409, 413, 415, 422, 503)}},
            "get": {"operationId": "findComment", "tags": ["site"],
                    "parameters": [{"name": "external_id", "in": "query", "required": True,
                                    "schema": {"type": "string", "minLength": 1}}],
                    "responses": {"200": view, **_site_errors(400, 404),
                                  "400": _resp("external_id is missing, empty or holds U+0000 (NUL).")}},
        },
        "/api/v1/comments/batch": {"post": {
            "operationId": "createComments", "tags": ["site"], "requestBody": _body("BatchIn"),
            "responses": _site_errors(400, 409, 413, 415, 422, 503) | {c: _resp(d, "BatchResults") for c, d in (
                ("202", "Every item new."), ("200", "Every item a repeat."), ("207", "Items differ in outcome."))}
            | {c: {"description": "Over the site's rate limit, or every item's commenter IP over theirs (each result "
                                  "says why)." if c == "429" else
                                  f"A malformed envelope, or every item refused with {c} (each result says why).",
                   "content": {"application/json": {"schema": {"anyOf": [_ref("Error"), _ref("BatchResults")]}}},
                   **({"headers": RETRY_AFTER} if c == "429" else {})}
               for c in ("400", "422", "429")}}},
        "/api/v1/comments/{comment_id}": {
            "get": {"operationId": "getComment", "tags": ["site"], "parameters": [PATH_ID],
                    "responses": {"200": view, **_site_errors(404)}},
            "put": {"operationId": "editComment", "tags": ["site"], "parameters": [PATH_ID],
                    "requestBody": _body("CommentEdit"),
                    "responses": {"200": _resp("The edit is stored and scored again (or was stale); the comment as "
                                               "it now stands.", "CommentView"),
                                  **_site_errors(400, 404, 409, 413, 415, 422, 503)}}},
        "/api/v1/comments/{comment_id}/flags": {"post": {
            "operationId": "flagComment", "tags": ["site"], "parameters": [PATH_ID], "requestBody": _body("FlagIn"),
            "responses": {"202": _resp("Recorded (a repeat by the same reporter counts once).", "FlagAccepted"),
                          **_site_errors(400, 404, 413, 415, 422)}}},
        "/api/v1/comments/{comment_id}/verdict": {"post": {
            "operationId": "reportVerdict", "tags": ["site"], "parameters": [PATH_ID],
            "requestBody": _body("VerdictIn"),
            "description": "A shadow-mode site's own final verdict (its moderators' or its filter's). Stored apart "
                           "from our decisions, never moves the comment; the latest report replaces earlier ones.",
            "responses": {"200": _resp("Stored.", "VerdictStored"), **_site_errors(400, 404, 413, 415, 422)}}},
    }


def _review_op(op_id: str, summary: str, ok: dict[str, Any], *, admin: bool = False, unsafe: bool = False,
               params: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
               errors: tuple[int, ...] = (400,), body_required: bool = True) -> dict[str, Any]:
    """One review-API operation: session cookie (plus the CSRF header when it changes something)."""
    texts = {400: "Bad filter, cursor, action or body (or, logged in, a missing CSRF token); nothing changed.",
             401: "Not logged in (checked before the CSRF token).",
             403: "Admins only (for authors: a network or range).",
             404: "No such comment, site or entry.", 409: "Nothing of yours to undo.",
             413: "Body over intake.max_body_bytes; nothing changed.",
             422: "A text field holds U+0000 (NUL), which is never stored; nothing changed."}
    # A state-changing request is read whole (its CSRF check looks at the form too): one over the size limit
    # is refused before anything else, whether or not the operation takes a body.
    too_large = (413,) if body or unsafe else ()
    responses = {**ok, **{str(c): _resp(texts[c]) for c in (401, *((403,) if admin else ()), *errors, *too_large)}}
    op: dict[str, Any] = {"operationId": op_id, "tags": ["review"], "summary": summary,
                          "security": [{"console": [], "csrf": []}] if unsafe else [{"console": []}],
                          "responses": dict(sorted(responses.items()))}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    return op


def _review_bodies(bulk_max: int) -> dict[str, dict[str, Any]]:
    """Request bodies of the review API (what its handlers check; references to unknown sites/ids are 400s)."""
    text = {"type": "string", "maxLength": 512}
    threshold = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}, {"const": ""}]}
    by_ids = {"type": "object", "required": ["action", "ids", "expected"], "properties": {
        "action": {"enum": ["approve", "spam", "reject", "keep"]},
        "ids": {"type": "array", "minItems": 1, "maxItems": bulk_max, "items": {"type": "string"}},
        "expected": {"enum": [s.value for s in Status]}, "note": _nullable(text),
        "reject_as": {"type": "string", "description": "With reject: 'abusive', anything else means 'other'."}}}
    return {
        "actions": by_ids,
        "authors": {"type": "object", "required": ["site", "verdict", "kind", "value"], "properties": {
            "site": {"type": "string"}, "verdict": {"enum": ["ban", "trust"]},
            "kind": {"enum": ["email", "ip", "name"]}, "value": text, "apply_to_queue": {"type": "boolean"}}},
        "site": {"type": "object", "additionalProperties": False, "properties": {
            "approve_below": threshold, "spam_above": threshold, "abusive_above": threshold,
            "callback_url": _nullable({"type": "string", "maxLength": 2048}),
            "time_zone": _nullable({"type": "string", "maxLength": 64,
                                    "description": "IANA zone such as Asia/Jakarta; null or '' for the default."}),
            "mode": {"enum": list(MODES)},
            "alert_emails": _nullable({
                "type": "array", "maxItems": ALERT_EMAILS_MAX,
                "items": {"type": "string", "maxLength": ALERT_EMAIL_CHARS},
                "description": "The site's own alert recipients (plain ASCII addresses): they get a digest of this "
                               "site's held queue only. null or [] for none."}),
            "alert_webhook_url": _nullable({
                "type": "string", "maxLength": ALERT_WEBHOOK_CHARS,
                "description": "The site's own chat webhook for alerts (http or https), a secret: answers show it "
                               "masked, and sending the masked form back keeps it. null or '' for none."})}},
        "list": {"type": "object", "required": ["action", "kind", "value"], "properties": {
            "site": _nullable({"type": "string"}), "action": {"enum": ["allow", "deny"]},
            "kind": {"enum": list(KINDS)}, "value": text}},
        "me": {"type": "object", "required": ["language"], "additionalProperties": False, "properties": {
            "language": {"enum": ["id", "en", None]}}},
        "undo": {"type": "object", "properties": {"action_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}},
        "trust": {"type": "object", "required": ["comment_id", "action"], "properties": {
            "comment_id": {"type": "string"}, "action": {"enum": ["revoke", "restore"]},
            "note": _nullable({"type": "string", "maxLength": 2000})}},
    }


def _obj(*required: str) -> dict[str, Any]:
    """A JSON object answer with these keys (the review API's shapes are the console's own)."""
    return {"200": {"description": "OK", "content": {"application/json": {"schema": {
        "type": "object", "required": list(required)}}}}}


def _query(*names: str) -> list[dict[str, Any]]:
    """Optional text query parameters."""
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]


def _whole(name: str, low: int, high: int, default: int | str) -> dict[str, Any]:
    """An optional whole-number query parameter (review.py refuses anything else with a 400)."""
    return {"name": name, "in": "query", "required": False, "description": f"Default: {default}.",
            "schema": {"type": "integer", "minimum": low, "maximum": high}}


def _review_paths(settings: Any) -> dict[str, Any]:
    """The moderators' JSON API (same session login as the console)."""
    p, bodies = "/api/v1/review", _review_bodies(settings["console.bulk_max"])
    outcome = _obj("action_id", "applied", "skipped")
    slug = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}]
    # Ids are 32-bit INTEGER columns on PostgreSQL: a larger number names no entry (404 if sent anyway).
    entry_id = [{"name": "entry_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}]
    return {
        f"{p}/me": {"get": _review_op("reviewMe", "Who is logged in (and the console's language for them).",
                                      _obj("name", "role"), errors=()),
                    "patch": _review_op("reviewSetMe", "Remember a console language on the account (null: the "
                                        "browser's).", _obj("name", "role", "language"), unsafe=True,
                                        body=bodies["me"], errors=(400,))},
        f"{p}/queue": {"get": _review_op("reviewQueue", "One page of a queue.",
                                         _obj("items", "next_cursor", "total", "queue", "sort"),
                                         params=[*_query("queue", "site", "reason", "lang", "post", "q", "sort",
                                                         "cursor"),
                                                 _whole("limit", 1, PAGE_MAX, "console.page_size")])},
        f"{p}/comments/{{comment_id}}": {"get": _review_op(
            "reviewComment", "One comment with audit trail, reports and author history.",
            _obj("id", "site", "status", "content", "events", "flags", "history"), params=[PATH_ID], errors=(404,))},
        f"{p}/actions": {"post": _review_op("reviewAction", "Approve/spam/reject/keep comments (spam on a spam, or "
                                            "approve on a published one, confirms it: a label, no callback).", outcome,
                                            unsafe=True, body=bodies["actions"], errors=(400, 422))},
        f"{p}/undo": {"post": _review_op("reviewUndo", "Undo this moderator's last action (or the one named).",
                                         outcome, unsafe=True, body=bodies["undo"], body_required=False,
                                         errors=(400, 409))},
        f"{p}/authors": {"post": _review_op("reviewAuthor", "Ban or trust an author.", _obj("entry", "outcome"),
                                            unsafe=True, body=bodies["authors"], errors=(400, 403, 422))},
        f"{p}/trust": {"post": _review_op("reviewTrust", "Revoke or restore a comment's author's earned trust.",
                                          _obj("standing"), unsafe=True, body=bodies["trust"],
                                          errors=(400, 404, 422))},
        f"{p}/suggestions": {"get": _review_op(
            "reviewSuggestions", "Comments most worth labelling (items), and the model's own spam marks nearest its "
            "line (spot_checks: 'spam' on one confirms it as a label, nothing moves and no callback is sent).",
            _obj("items", "spot_checks"),
            params=[_whole("limit", 1, PAGE_MAX, 50), _whole("spot_checks", 0, PAGE_MAX, SPOT_CHECKS)])},
        f"{p}/stats": {"get": _review_op("reviewStats", "The stats page's figures.", _obj("days"),
                                         params=[_whole("days", 7, 90, 30)])},
        f"{p}/sites": {"get": _review_op("reviewSites", "Every site's thresholds (and alert recipients, the webhook "
                                         "URL masked).", _obj("sites"), admin=True, errors=())},
        f"{p}/sites/{{slug}}": {"patch": _review_op("reviewUpdateSite", "Change thresholds / callback URL / time zone "
                                                    "/ mode / alert recipients (all or nothing).",
                                                    _obj("site"), admin=True, unsafe=True, params=slug,
                                                    body=bodies["site"], errors=(400, 404, 422))},
        f"{p}/sites/{{slug}}/rotate-secret": {"post": _review_op(
            "reviewRotateSecret", "A new secret (the old one keeps working for a grace period).",
            _obj("site", "secret", "previous_valid_until"), admin=True, unsafe=True, params=slug, errors=(400, 404))},
        f"{p}/lists": {
            "get": _review_op("reviewLists", "Allow/deny entries.", _obj("entries"), admin=True,
                              params=_query("site"), errors=(404,)),
            "post": _review_op("reviewAddListEntry", "Add an allow/deny entry.",
                               {**_obj("id", "action", "kind", "value"),
                                "201": {"description": "Created", "content": {"application/json": {"schema": {
                                    "type": "object", "required": ["id", "action", "kind", "value"]}}}}},
                               admin=True, unsafe=True, body=bodies["list"], errors=(400, 422))},
        f"{p}/lists/{{entry_id}}": {"delete": _review_op("reviewDeleteListEntry", "Remove an entry.",
                                                         {"204": {"description": "Removed."}}, admin=True,
                                                         unsafe=True, params=entry_id, errors=(400, 404))},
    }


def _security_schemes() -> dict[str, Any]:
    """The three signing headers (all required together) and the console's session + CSRF header."""
    def header(name: str, text: str) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": name, "description": text}

    return {
        "site": header(signing.SITE_HEADER, "The site's slug."),
        "timestamp": header(signing.TIMESTAMP_HEADER, "Unix seconds; refused when over the allowed clock skew."),
        "signature": header(signing.SIGNATURE_HEADER, "sha256=HEX: lower-case hex HMAC-SHA256, keyed with the "
                            "site's secret, of TIMESTAMP + '.' + METHOD + '.' + PATH_WITH_QUERY + '.' + RAW_BODY."),
        "console": {"type": "apiKey", "in": "cookie", "name": "moderation_console",
                    "description": "The console's session cookie (log in at /login)."},
        "csrf": header("X-CSRFToken", "The session's CSRF token (meta csrf-token of any console page)."),
    }


def build_document(settings: Any) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for this app's settings."""
    requests = {**_comment_in(settings["intake.max_content_chars"]), **_request_schemas(settings)}
    schemas = {**{name: _no_nul(schema) for name, schema in requests.items()}, **_error_schemas(), **_view_schemas()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Comment moderation API", "version": "1",
                 "description": "The site API (HMAC-signed, see the signing scheme) and the moderators' review API "
                                f"(session login). Bodies over {settings['intake.max_body_bytes']} bytes get 413."},
        "servers": [{"url": "/"}],
        "security": [{"site": [], "timestamp": [], "signature": []}],
        "paths": {**_requests_without_nul({**_site_paths(), **_review_paths(settings)}),
                  "/api/v1/openapi.json": {"get": {
            "operationId": "openapiDocument", "tags": ["meta"], "security": [],
            "responses": {"200": {"description": "This document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}}},
        "components": {"schemas": schemas, "securitySchemes": _security_schemes()},
    }


_cache: dict[tuple[int, ...], dict[str, Any]] = {}


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI document (public: it holds no secrets, and sites' developers need it before they have any)."""
    settings = get_services().settings
    key = (settings["intake.max_content_chars"], settings["intake.batch_max_items"], settings["intake.max_body_bytes"],
           settings["console.bulk_max"])
    if key not in _cache:
        _cache[key] = build_document(settings)
    return jsonify(copy.deepcopy(_cache[key]))
