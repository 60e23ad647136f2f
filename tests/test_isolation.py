"""Sites are isolated: no endpoint lets one site read, change or label another site's comments."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from moderation.delivery import signing
from moderation.services import Services
from moderation.store.models import Comment, TrainingLabel
from moderation.store.sites import create_site
from tests.support import Site, signed_request

SECRET_TEXT = "Komentar rahasia situs A, jangan bocor ke situs B ya teman teman"


@pytest.fixture
def two_sites(services: Services) -> tuple[Site, Site]:
    """Sites A and B."""
    with services.db.session() as session:
        made = [create_site(session, slug) for slug in ("site-a", "site-b")]
        return tuple(Site(s.id, s.slug, s.secret, s.api_key) for s in made)  # type: ignore[return-value]


@pytest.fixture
def a_comment(client: Any, two_sites: tuple[Site, Site]) -> dict[str, Any]:
    """A comment of site A."""
    a, _ = two_sites
    resp = signed_request(client, a, "POST", "/api/v1/comments", {"id": "a-1", "content": SECRET_TEXT})
    return dict(resp.get_json())


def _site_routes(app: Flask) -> list[tuple[str, str]]:
    """Every signed /api/v1 route taking a comment id (method, rule), read from the live URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/comments/<") and "review" not in rule.rule:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return found


def test_every_comment_route_answers_404_for_another_sites_id(app: Flask, client: Any, two_sites: tuple[Site, Site],
                                                              a_comment: dict[str, Any], services: Services) -> None:
    """Site B naming site A's comment id on any comment route gets 404, and A's comment is unchanged."""
    _, b = two_sites
    routes = _site_routes(app)
    assert ("GET", "/api/v1/comments/<comment_id>") in routes
    for method, rule in routes:
        path = re.sub(r"<[^>]+>", a_comment["id"], rule)
        payload = None if method == "GET" else {"reason": "spam", "reporter": "r", "note": "n"}
        resp = signed_request(client, b, method, path, payload)
        assert resp.status_code == 404, (method, rule, resp.status_code)
        assert SECRET_TEXT not in resp.get_data(as_text=True)
    with services.db.session() as session:
        row = session.get(Comment, a_comment["id"])
        assert row is not None and row.site_id == two_sites[0].id and row.content == SECRET_TEXT


def test_lookup_by_external_id_is_per_site(client: Any, two_sites: tuple[Site, Site],
                                          a_comment: dict[str, Any]) -> None:
    """B asking for external id a-1 gets 404; A gets its own comment."""
    a, b = two_sites
    assert signed_request(client, b, "GET", "/api/v1/comments?external_id=a-1").status_code == 404
    assert signed_request(client, a, "GET", "/api/v1/comments?external_id=a-1").get_json()["id"] == a_comment["id"]


def test_same_external_id_on_two_sites_are_two_comments(client: Any, two_sites: tuple[Site, Site],
                                                         a_comment: dict[str, Any]) -> None:
    """B posting A's external id (single or batch) creates B's own comment; it never answers with A's."""
    _, b = two_sites
    single = signed_request(client, b, "POST", "/api/v1/comments", {"id": "a-1", "content": "punya B"})
    assert single.status_code == 202 and single.get_json()["id"] != a_comment["id"]
    batch = signed_request(client, b, "POST", "/api/v1/comments/batch", {"comments": [{"id": "a-1", "content": "x"}]})
    assert batch.get_json()["results"][0]["id"] == single.get_json()["id"]


def test_one_sites_signature_cannot_speak_for_another(client: Any, two_sites: tuple[Site, Site]) -> None:
    """A request signed with A's secret but naming site B is 401."""
    a, b = two_sites
    body = json.dumps({"id": "x", "content": "y"}).encode()
    headers = signing.signed_headers(b.slug, a.secret, "POST", "/api/v1/comments", body)
    resp = client.post("/api/v1/comments", data=body, headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 401


def test_akismet_key_of_a_cannot_label_or_move_bs_comments(client: Any, two_sites: tuple[Site, Site],
                                                           services: Services) -> None:
    """A's api_key submitting B's checked comment (by guid or by content+author+IP) never touches B's comment."""
    a, b = two_sites
    form = {"user_ip": "203.0.113.7", "comment_author": "Budi", "comment_content": SECRET_TEXT}
    guid = client.post("/1.1/comment-check", data={"api_key": b.api_key, **form}).headers["X-akismet-guid"]
    for extra in ({"guid": guid}, {}):
        resp = client.post("/1.1/submit-spam", data={"api_key": a.api_key, **form, **extra})
        assert resp.get_data(as_text=True) == "Thanks for making the web a better place."
    with services.db.session() as session:
        b_row = session.scalar(select(Comment).where(Comment.external_id == f"akismet:{guid}"))
        labels = list(session.scalars(select(TrainingLabel)))
    assert b_row is not None and b_row.site_id == b.id and b_row.status == "approved"
    assert labels and all(lb.site_id == a.id and lb.comment_id != b_row.id for lb in labels)


def test_usage_limit_counts_only_the_callers_checks(client: Any, two_sites: tuple[Site, Site]) -> None:
    """Usage of site A does not include site B's checks."""
    a, b = two_sites
    client.post("/1.1/comment-check", data={"api_key": b.api_key, "user_ip": "203.0.113.7", "comment_content": "x"})
    assert client.get(f"/1.2/usage-limit?api_key={a.api_key}").get_json()["usage"] == 0
    assert client.get(f"/1.2/usage-limit?api_key={b.api_key}").get_json()["usage"] == 1


def test_flood_counts_are_per_site(client: Any, two_sites: tuple[Site, Site], services: Services) -> None:
    """A campaign on site B does not make site A's first copy look like a flood."""
    a, b = two_sites
    text = "Menurut saya pemerintah daerah harus segera memperbaiki jalan rusak di kampung nomor {n}"
    for i in range(10):
        client.post("/1.1/comment-check", data={"api_key": b.api_key, "user_ip": "198.51.100.1",
                                                "comment_content": text.format(n=i)})
    guid = client.post("/1.1/comment-check", data={"api_key": a.api_key, "user_ip": "198.51.100.2",
                                                   "comment_content": text.format(n=99)}).headers["X-akismet-guid"]
    with services.db.session() as session:
        a_row = session.scalar(select(Comment).where(Comment.external_id == f"akismet:{guid}"))
        b_last = session.scalar(select(Comment).where(Comment.site_id == b.id).order_by(Comment.received_at.desc()))
    assert a_row is not None and b_last is not None
    assert "flood.near_duplicate" in [r["code"] for r in b_last.reasons]
    assert "flood.near_duplicate" not in [r["code"] for r in a_row.reasons]
