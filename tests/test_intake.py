"""Intake: signed comments are stored before 202, repeats answer 200, every refusal stores and queues nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from moderation.delivery import signing
from moderation.services import Services, get_services
from moderation.store.models import Comment
from tests.support import Site, signed_request

COMMENT = {
    "id": "12345",
    "content": "Mantap beritanya, semoga Sulsel tetap aman",
    "author": {"name": "Andi", "email": "andi@example.id", "url": "", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
    "post": {"id": "987", "url": "https://news.example.id/2017/09/kamtibmas", "title": "Kamtibmas"},
    "parent_id": None,
    "created_at": "2026-11-27T10:00:00Z",
    "lang": "id",
}


def stored(services: Services) -> int:
    """How many comments the database holds."""
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def queued(services: Services) -> int:
    """How many ids wait on the Redis pending list."""
    return int(services.redis.llen(services.names.pending))


def assert_nothing_changed(services: Services) -> None:
    """A refused request stored nothing and queued nothing."""
    assert stored(services) == 0
    assert queued(services) == 0


def test_new_comment_is_stored_then_queued(client: Any, site: Site, services: Services) -> None:
    """A valid signed comment answers 202 with its service id, is in the database as queued, and on the list."""
    resp = signed_request(client, site, "POST", "/api/v1/comments", COMMENT)
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["external_id"] == "12345" and body["status"] == "queued" and body["id"]
    with services.db.session() as session:
        row = session.get(Comment, body["id"])
        assert row is not None and row.status == "queued"
        assert row.author_email == "andi@example.id" and row.post_url.endswith("kamtibmas")
        assert row.created_at.year == 2026
    assert services.redis.lrange(services.names.pending, 0, -1) == [body["id"].encode()]


def test_only_id_and_content_are_required(client: Any, site: Site) -> None:
    """A minimal comment is accepted; numeric ids (as WordPress sends them) become strings."""
    resp = signed_request(client, site, "POST", "/api/v1/comments", {"id": 77, "content": "Setuju"})
    assert resp.status_code == 202
    assert resp.get_json()["external_id"] == "77"


def test_repeat_answers_200_and_is_not_queued_twice(client: Any, site: Site, services: Services) -> None:
    """The same site sending the same id again gets 200 with the comment as it stands, and nothing new is queued."""
    first = signed_request(client, site, "POST", "/api/v1/comments", COMMENT).get_json()
    again = signed_request(client, site, "POST", "/api/v1/comments", {**COMMENT, "content": "changed"})
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert stored(services) == 1 and queued(services) == 1


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_body"),
        (json.dumps({"id": "1"}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps({"content": "tanpa id"}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps({"id": "1", "content": 42}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps({"id": "1", "content": "x", "author": {"email": 5}}).encode(), "application/json", 422,
         "invalid_fields"),
        (json.dumps({"id": True, "content": "x"}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps({"id": "1", "content": "x" * 20_001}).encode(), "application/json", 422, "content_too_long"),
        (json.dumps({"id": "1", "content": "   "}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps(COMMENT).encode(), "text/plain", 415, "unsupported_media_type"),
        (json.dumps(COMMENT).encode(), "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client: Any, site: Site, services: Services, raw: bytes, content_type: str, status: int, code: str
) -> None:
    """Malformed JSON, missing or wrong-typed fields, over-long content and wrong content types are refused."""
    resp = signed_request(client, site, "POST", "/api/v1/comments", raw=raw, content_type=content_type)
    assert resp.status_code == status
    error = resp.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert_nothing_changed(services)


def test_wrong_field_is_named(client: Any, site: Site) -> None:
    """A validation error names the offending field."""
    resp = signed_request(client, site, "POST", "/api/v1/comments", {"id": "1", "content": "x", "author": {"ip": 1}})
    assert "author.ip" in resp.get_json()["error"]["fields"]


def test_body_over_256_kib_is_413(client: Any, site: Site, services: Services) -> None:
    """A body over the limit answers 413 in the error shape and stores nothing."""
    raw = json.dumps({"id": "1", "content": "a" * 300_000}).encode()
    resp = signed_request(client, site, "POST", "/api/v1/comments", raw=raw)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"]
    assert_nothing_changed(services)


def _post_with(client: Any, headers: dict[str, str]) -> Any:
    """POST the sample comment with the given (possibly wrong) auth headers."""
    return client.post("/api/v1/comments", data=json.dumps(COMMENT), headers={**headers,
                       "Content-Type": "application/json"})


def test_missing_signature_is_401(client: Any, site: Site, services: Services) -> None:
    """No signature headers at all: 401, nothing stored."""
    resp = _post_with(client, {signing.SITE_HEADER: site.slug})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    assert_nothing_changed(services)


def test_wrong_signature_is_401(client: Any, site: Site, services: Services) -> None:
    """A signature made with another secret: 401, nothing stored."""
    body = json.dumps(COMMENT).encode()
    headers = signing.signed_headers(site.slug, "not-the-secret", "POST", "/api/v1/comments", body)
    assert client.post("/api/v1/comments", data=body, headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 401
    assert_nothing_changed(services)


def test_tampered_body_is_401(client: Any, site: Site, services: Services) -> None:
    """A body changed after signing no longer verifies."""
    body = json.dumps(COMMENT).encode()
    headers = signing.signed_headers(site.slug, site.secret, "POST", "/api/v1/comments", body)
    tampered = body.replace(b"Mantap", b"Slot88")
    assert client.post("/api/v1/comments", data=tampered, headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 401
    assert_nothing_changed(services)


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_stale_timestamp_is_401(client: Any, site: Site, services: Services, skew: int) -> None:
    """A correctly signed request more than 300 s from the server clock is refused (replay protection)."""
    body = json.dumps(COMMENT).encode()
    headers = signing.signed_headers(site.slug, site.secret, "POST", "/api/v1/comments", body, now=time.time() + skew)
    resp = client.post("/api/v1/comments", data=body, headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 401
    assert_nothing_changed(services)


def test_unknown_site_is_401(client: Any, site: Site, services: Services) -> None:
    """A slug nobody registered is refused like a bad signature."""
    body = json.dumps(COMMENT).encode()
    headers = signing.signed_headers("nobody", site.secret, "POST", "/api/v1/comments", body)
    assert client.post("/api/v1/comments", data=body, headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 401
    assert_nothing_changed(services)


def test_over_rate_limit_is_429_with_retry_after(config: dict[str, Any], site: Site) -> None:
    """Past the site's per-minute limit the answer is 429 with Retry-After, and the extra comment is not stored."""
    from moderation.app import create_app

    app = create_app({**config, "intake.rate_limit_per_minute": "2"})
    client, services = app.test_client(), get_services(app)
    for n in range(2):
        assert signed_request(client, site, "POST", "/api/v1/comments", {"id": str(n), "content": "ok"}
                              ).status_code == 202
    resp = signed_request(client, site, "POST", "/api/v1/comments", {"id": "3", "content": "ok"})
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.get_json()["error"]["code"] == "rate_limited"
    assert stored(services) == 2
    services.db.dispose()


def test_batch_mixed_outcomes_answer_207(client: Any, site: Site, services: Services) -> None:
    """A batch answers one result per item in order: new 202, repeats 200, refused items their own 4xx."""
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "old", "content": "sudah ada"})
    items = [{"id": "a", "content": "satu"}, {"id": "old", "content": "lagi"}, {"id": "b"},
             {"id": "a", "content": "dua kali"}, {"id": "c", "content": "x" * 20_001}]
    resp = signed_request(client, site, "POST", "/api/v1/comments/batch", {"comments": items})
    assert resp.status_code == 207
    results = resp.get_json()["results"]
    assert [r["code"] for r in results] == [202, 200, 422, 200, 422]
    assert results[0]["external_id"] == "a" and results[3]["id"] == results[0]["id"]
    assert results[2]["error"]["code"] == "invalid_fields"
    assert results[4]["error"]["code"] == "content_too_long"
    assert stored(services) == 2 and queued(services) == 2


def test_batch_all_new_answers_202(client: Any, site: Site, services: Services) -> None:
    """When every item is new the batch answers 202 and queues them all."""
    items = [{"id": str(i), "content": f"komentar {i}"} for i in range(50)]
    resp = signed_request(client, site, "POST", "/api/v1/comments/batch", {"comments": items})
    assert resp.status_code == 202
    assert stored(services) == 50 and queued(services) == 50


@pytest.mark.parametrize("payload", [{"comments": "nope"}, {"items": []}, {"comments": []}, [1],
                                     {"comments": [{"id": str(i), "content": "x"} for i in range(501)]}])
def test_malformed_batch_envelope_is_400(client: Any, site: Site, services: Services, payload: Any) -> None:
    """A batch whose envelope is wrong (or holds over 500 items) is a plain 400 and stores nothing."""
    resp = signed_request(client, site, "POST", "/api/v1/comments/batch", payload)
    assert resp.status_code == 400
    assert_nothing_changed(services)


def test_redis_down_at_intake_still_answers_202(config: dict[str, Any], site: Site, tmp_path: Any) -> None:
    """With Redis unreachable the comment is still committed and answered 202; it stays queued for the sweeper."""
    from moderation.app import create_app

    app = create_app({**config, "redis_url": f"unix://{tmp_path}/nothing-listens.sock"})
    client, services = app.test_client(), get_services(app)
    resp = signed_request(client, site, "POST", "/api/v1/comments", COMMENT)
    assert resp.status_code == 202
    with services.db.session() as session:
        assert session.get(Comment, resp.get_json()["id"]).status == "queued"
    services.db.dispose()


def test_created_at_must_be_an_iso_string(client: Any, site: Site, services: Services) -> None:
    """A number as created_at is refused (found by schemathesis), not read as unix time."""
    resp = signed_request(client, site, "POST", "/api/v1/comments", {"id": "t", "content": "x", "created_at": 0.0})
    assert resp.status_code == 422 and "created_at" in resp.get_json()["error"]["fields"]
    assert_nothing_changed(services)
