"""The OpenAPI document: valid OpenAPI 3.1, the same routes as app.url_map, and real answers conform to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from moderation.services import get_services
from tests.support import Site, signed_request

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    """The document as the app serves it (no signature needed)."""
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()  # type: ignore[no-any-return]


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts it as OpenAPI 3.1."""
    assert document["openapi"].startswith("3.1")
    validate(document)


def _routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every /api/v1 rule, Flask converters stripped."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1":
            path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            found |= {(m, path) for m in (rule.methods or set()) - IGNORED_METHODS}
    return found


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every documented operation."""
    return {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask, document: dict[str, Any]) -> None:
    """app.url_map under /api/v1 and the document's paths are the same set of operations."""
    routes, documented = _routes(app), _documented(document)
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations the app does not have"
    assert len(routes) >= 5


def test_signing_and_request_limits_come_from_the_code(app: Flask, document: dict[str, Any]) -> None:
    """Signed operations need all three headers; CommentIn requires id and content; limits are the settings'."""
    schemes = document["components"]["securitySchemes"]
    assert {schemes[n]["name"] for n in ("site", "timestamp", "signature")} == {
        "X-Moderation-Site", "X-Moderation-Timestamp", "X-Moderation-Signature"}
    assert document["security"] == [{"site": [], "timestamp": [], "signature": []}]
    comment_in = document["components"]["schemas"]["CommentIn"]
    settings = get_services(app).settings
    assert set(comment_in["required"]) == {"id", "content"}
    assert comment_in["properties"]["content"]["maxLength"] == settings["intake.max_content_chars"] == 20000
    batch = document["components"]["schemas"]["BatchIn"]["properties"]["comments"]
    assert batch["maxItems"] == settings["intake.batch_max_items"] == 500
    for path in ("/api/v1/comments", "/api/v1/comments/batch", "/api/v1/comments/{comment_id}/flags"):
        assert {"400", "401", "413", "415", "429"} <= set(document["paths"][path]["post"]["responses"])
    assert "Retry-After" in document["paths"]["/api/v1/comments"]["post"]["responses"]["429"]["headers"]


def test_limits_follow_the_running_settings(config: dict[str, Any]) -> None:
    """An app configured with other limits documents those limits."""
    from moderation.app import create_app

    app = create_app({**config, "intake.max_content_chars": "500", "intake.batch_max_items": "7"})
    try:
        schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    finally:
        get_services(app).db.dispose()
    assert schemas["CommentIn"]["properties"]["content"]["maxLength"] == 500
    assert schemas["BatchIn"]["properties"]["comments"]["maxItems"] == 7


def _conforms(document: dict[str, Any], method: str, path: str, answer: Any) -> None:
    """The answer's status is documented for the operation and its JSON body matches the documented schema."""
    responses = document["paths"][path][method.lower()]["responses"]
    assert str(answer.status_code) in responses, f"{method} {path}: undocumented {answer.status_code}"
    content = responses[str(answer.status_code)].get("content")
    if content:
        schema = {**content["application/json"]["schema"], "components": document["components"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(answer.get_json())]
        assert errors == [], f"{method} {path} {answer.status_code}: {errors}"
    for header in responses[str(answer.status_code)].get("headers", {}):
        assert header in answer.headers, f"{method} {path} {answer.status_code}: no {header}"


def test_real_answers_conform(client: FlaskClient, document: dict[str, Any], site: Site) -> None:
    """Every contract status the site API gives (202/200/207/400/401/404/413/415/422) matches the document."""
    post, one = "/api/v1/comments", {"id": "a1", "content": "Mantap beritanya"}
    calls: list[tuple[str, str, Any]] = [
        ("POST", post, signed_request(client, site, "POST", post, one)),
        ("POST", post, signed_request(client, site, "POST", post, one)),
        ("POST", post, signed_request(client, site, "POST", post, raw=b"{not json")),
        ("POST", post, signed_request(client, site, "POST", post, {"id": "x"})),
        ("POST", post, signed_request(client, site, "POST", post, {"id": "y", "content": "z" * 20001})),
        ("POST", post, signed_request(client, site, "POST", post, one, content_type="text/plain")),
        ("POST", post, signed_request(client, site, "POST", post, raw=b'{"id":"' + b"x" * 300_000 + b'"}')),
        ("POST", post, client.post(post, json=one)),
        ("POST", "/api/v1/comments/batch", signed_request(client, site, "POST", "/api/v1/comments/batch",
                                                          {"comments": [one, {"id": "b2"}]})),
        ("POST", "/api/v1/comments/batch", signed_request(client, site, "POST", "/api/v1/comments/batch",
                                                          {"comments": [{"id": "b3", "content": "ok"}]})),
        ("POST", "/api/v1/comments/batch", signed_request(client, site, "POST", "/api/v1/comments/batch",
                                                          {"comments": [{"id": "b4"}]})),
        ("POST", "/api/v1/comments/batch", signed_request(client, site, "POST", "/api/v1/comments/batch",
                                                          {"nope": 1})),
    ]
    service_id = calls[0][2].get_json()["id"]
    calls += [
        ("GET", "/api/v1/comments/{comment_id}", signed_request(client, site, "GET", f"/api/v1/comments/{service_id}")),
        ("GET", "/api/v1/comments/{comment_id}", signed_request(client, site, "GET", "/api/v1/comments/nope")),
        ("GET", post, signed_request(client, site, "GET", "/api/v1/comments?external_id=a1")),
        ("GET", post, signed_request(client, site, "GET", "/api/v1/comments?external_id=zz")),
        ("GET", post, signed_request(client, site, "GET", "/api/v1/comments")),
        ("POST", "/api/v1/comments/{comment_id}/flags", signed_request(
            client, site, "POST", f"/api/v1/comments/{service_id}/flags", {"reason": "spam", "reporter": "r1"})),
        ("POST", "/api/v1/comments/{comment_id}/flags", signed_request(
            client, site, "POST", f"/api/v1/comments/{service_id}/flags", {"reason": "bogus"})),
        ("GET", "/api/v1/review/me", client.get("/api/v1/review/me")),
    ]
    seen = set()
    for method, path, answer in calls:
        _conforms(document, method, path, answer)
        seen.add(answer.status_code)
    assert {200, 202, 207, 400, 401, 404, 413, 415, 422} <= seen


@contextmanager
def _limited_app(config: dict[str, Any], slug: str, **limits: str) -> Iterator[tuple[FlaskClient, Site, dict]]:
    """An app with the given rate limits, one site, its test client and the served document."""
    from moderation.app import create_app
    from moderation.store.sites import create_site

    app = create_app({**config, **limits})
    services = get_services(app)
    try:
        with services.db.session() as session:
            made = create_site(session, slug)
            site = Site(made.id, made.slug, made.secret, made.api_key)
        client = app.test_client()
        yield client, site, client.get("/api/v1/openapi.json").get_json()
    finally:
        services.db.dispose()


def test_rate_limited_answer_conforms(config: dict[str, Any]) -> None:
    """Over the site's rate limit: a documented 429 with Retry-After."""
    with _limited_app(config, "tight", **{"intake.rate_limit_per_minute": "1"}) as (client, site, document):
        answers = [signed_request(client, site, "POST", "/api/v1/comments", {"id": f"r{i}", "content": "halo"})
                   for i in range(3)]
        assert answers[-1].status_code == 429
        for answer in answers:
            _conforms(document, "POST", "/api/v1/comments", answer)


def test_batch_refused_for_commenter_rate_conforms(config: dict[str, Any]) -> None:
    """Every item over its commenter IP's limit: a documented 429 whose body still lists each item's result."""
    with _limited_app(config, "tight-ip", **{"intake.ip_rate_limit_per_minute": "1"}) as (client, site, document):
        items = [{"id": f"i{i}", "content": "halo", "author": {"ip": "203.0.113.5"}} for i in range(3)]
        path = "/api/v1/comments/batch"
        first = signed_request(client, site, "POST", path, {"comments": items})
        refused = signed_request(client, site, "POST", path, {"comments": items[1:]})
        assert (first.status_code, refused.status_code) == (207, 429) and refused.headers["Retry-After"]
        for answer in (first, refused):
            _conforms(document, "POST", path, answer)


def test_document_names_no_secret(document: dict[str, Any], site: Site) -> None:
    """The public document carries no site's secret or key."""
    text = json.dumps(document)
    assert site.secret not in text and site.api_key not in text


EDGE_SPACES = ["\x85", "\x1c", "\xa0", "\u2028", "\u3000", "\ufeff", " \t\n", "\u200b"]
"""Characters where Python's whitespace, ECMAScript's \\s and an ASCII-only \\s disagree (U+200B is none)."""


def test_blank_means_the_same_to_the_document_and_the_handler(client: FlaskClient, document: dict[str, Any],
                                                              site: Site) -> None:
    """For text made of each edge character, intake accepts exactly what the published content and id patterns do."""
    content_schema = document["components"]["schemas"]["CommentIn"]["properties"]["content"]
    id_schema = document["components"]["schemas"]["CommentIn"]["properties"]["id"]
    for n, text in enumerate(EDGE_SPACES):
        for field, schema, item in (("content", content_schema, {"id": f"edge{n}", "content": text}),
                                    ("id", id_schema, {"id": text, "content": "isi"})):
            allowed = Draft202012Validator(schema).is_valid(text)
            answer = signed_request(client, site, "POST", "/api/v1/comments", item)
            assert (answer.status_code in (200, 202)) == allowed, (field, repr(text), answer.get_json())


def test_non_blank_pattern_covers_every_whitespace_reading() -> None:
    """Over all of Unicode, is_blank() is exactly 'Python whitespace or ECMAScript whitespace'."""
    from moderation.api.schemas import is_blank
    ecma = {0xFEFF}  # ECMAScript \s is Python's Unicode whitespace minus U+001C-U+001F and U+0085, plus U+FEFF
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        assert is_blank(char) == (char.isspace() or code in ecma), hex(code)


def _concrete(path: str, comment_id: str, slug: str) -> str:
    """A documented path with real values for its parameters."""
    return path.replace("{comment_id}", comment_id).replace("{slug}", slug).replace("{entry_id}", "1")


def test_every_operation_documents_its_answer_to_an_oversized_body(client: FlaskClient, document: dict[str, Any],
                                                                   site: Site) -> None:
    """A body one byte over intake.max_body_bytes, sent to every documented operation (signed, or as a logged-in
    admin with the CSRF header): whatever each answers (413 where it reads a body) is a documented status."""
    from moderation.services import get_services as services_of
    from tests.browser.support import add_user, held_comment, login, page_token

    services = services_of(client.application)
    comment_id = held_comment(services, site.id, "Komentar untuk diuji")
    add_user(services, "bigbody", role="admin")
    login(client, "bigbody")
    csrf = {"X-CSRFToken": page_token(client)}
    body = b'{"x":"' + b"a" * services.settings["intake.max_body_bytes"] + b'"}'
    answered = {}
    for path, ops in document["paths"].items():
        for method in ops:
            url = _concrete(path, comment_id, site.slug)
            if path.startswith("/api/v1/review"):
                answer = client.open(url, method=method.upper(), data=body, headers={
                    **csrf, "Content-Type": "application/json"})
            else:
                answer = signed_request(client, site, method.upper(), url, raw=body)
            _conforms(document, method.upper(), path, answer)
            answered[(method.upper(), path)] = answer.status_code
    assert answered[("POST", "/api/v1/review/actions")] == 413 and answered[("POST", "/api/v1/comments")] == 413
