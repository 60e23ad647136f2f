"""Reader reports (contract: POST /api/v1/comments/ID/flags) and the console's reported queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from moderation.decide.states import Status
from moderation.services import Services, get_services
from moderation.store.models import Flag, TrainingLabel
from tests.browser.support import add_user, held_comment, login, page_token
from tests.support import Site, signed_request


def _flag(client: FlaskClient, site: Site, comment_id: str, reporter: Any = "r1", reason: str = "spam",
          **extra: Any) -> Any:
    """Send a signed report as the site would."""
    return signed_request(client, site, "POST", f"/api/v1/comments/{comment_id}/flags",
                          {"reason": reason, "reporter": reporter, **extra})


def _open_flags(services: Services, comment_id: str) -> int:
    """How many unresolved reports a comment has."""
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Flag)
                                  .where(Flag.comment_id == comment_id, Flag.resolved_at.is_(None))) or 0)


def test_a_report_is_recorded_once_per_reporter(client: FlaskClient, services: Services, site: Site) -> None:
    """202 for every report; the same reporter twice counts once; anonymous reports count as one reporter."""
    cid = held_comment(services, site.id, "Komentar yang dilaporkan", status=Status.APPROVED)
    first = _flag(client, site, cid, note="iklan judi")
    assert first.status_code == 202 and first.get_json()["counted"] is True
    assert _flag(client, site, cid).get_json()["counted"] is False
    assert _flag(client, site, cid, reporter=42, reason="abusive").get_json()["counted"] is True
    anon = signed_request(client, site, "POST", f"/api/v1/comments/{cid}/flags", {"reason": "other"})
    assert anon.status_code == 202
    assert signed_request(client, site, "POST", f"/api/v1/comments/{cid}/flags", {"reason": "other"}
                          ).get_json()["counted"] is False
    assert _open_flags(services, cid) == 3


def test_bad_reports_are_refused_and_change_nothing(client: FlaskClient, services: Services, site: Site,
                                                    make_site: Callable[..., Site]) -> None:
    """Unsigned 401, another site's comment 404, bad fields 422, bad JSON 400, wrong type 415."""
    cid = held_comment(services, site.id, "Komentar", status=Status.APPROVED)
    other = make_site("other")
    unsigned = client.post(f"/api/v1/comments/{cid}/flags", json={"reason": "spam", "reporter": "r"})
    assert unsigned.status_code == 401
    assert _flag(client, other, cid).status_code == 404
    assert _flag(client, site, "no-such-id").status_code == 404
    bad = _flag(client, site, cid, reason="boring")
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["fields"]
    assert _flag(client, site, cid, reporter="").status_code == 422
    assert _flag(client, site, cid, note="x" * 2001).status_code == 422
    assert _flag(client, site, cid, reporter=True).status_code == 422
    raw = signed_request(client, site, "POST", f"/api/v1/comments/{cid}/flags", raw=b"{nope")
    assert raw.status_code == 400
    form = signed_request(client, site, "POST", f"/api/v1/comments/{cid}/flags", raw=b"reason=spam",
                          content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert _open_flags(services, cid) == 0


def test_reported_queue_is_most_reported_first_and_keep_clears_it(client: FlaskClient, services: Services, site: Site,
                                                                  config: dict[str, Any]) -> None:
    """Published comments with reports show up most-reported first; 'keep' closes the reports, undo reopens them."""
    once = held_comment(services, site.id, "Sekali dilaporkan", status=Status.APPROVED)
    thrice = held_comment(services, site.id, "Tiga kali dilaporkan", status=Status.APPROVED)
    held_comment(services, site.id, "Tidak dilaporkan", status=Status.APPROVED)
    _flag(client, site, once)
    for reporter in ("a", "b", "c"):
        _flag(client, site, thrice, reporter=reporter)
    add_user(services, "ani")
    login(client, "ani")
    headers = {"X-CSRFToken": page_token(client)}
    items = client.get("/api/v1/review/queue?queue=reported").get_json()["items"]
    assert [(i["id"], i["reports"]) for i in items] == [(thrice, 3), (once, 1)]
    page2 = client.get("/api/v1/review/queue?queue=reported&limit=1").get_json()
    assert [i["id"] for i in client.get("/api/v1/review/queue?queue=reported&limit=1&cursor="
                                        + page2["next_cursor"]).get_json()["items"]] == [once]
    kept = client.post("/api/v1/review/actions", headers=headers,
                       json={"action": "keep", "ids": [thrice], "expected": "approved"})
    assert kept.get_json()["applied"] == [thrice] and _open_flags(services, thrice) == 0
    with services.db.session() as session:
        assert session.scalar(select(TrainingLabel.label).where(TrainingLabel.comment_id == thrice,
                                                                TrainingLabel.head == "spam")) == "ham"
    assert [i["id"] for i in client.get("/api/v1/review/queue?queue=reported").get_json()["items"]] == [once]
    assert client.post("/api/v1/review/undo", headers=headers, json={}).status_code == 200
    assert _open_flags(services, thrice) == 3
    spam = client.post("/api/v1/review/actions", headers=headers,
                       json={"action": "spam", "ids": [once], "expected": "approved"})
    assert spam.get_json()["applied"] == [once] and _open_flags(services, once) == 0


def test_review_after_setting_sets_the_bar(app: Any, client: FlaskClient, services: Services, site: Site) -> None:
    """With flags.review_after = 2 a single report does not put a comment in the reported queue."""
    get_services(app).settings = services.settings.with_overrides({"flags.review_after": 2})
    one, two = (held_comment(services, site.id, t, status=Status.APPROVED) for t in ("satu", "dua"))
    _flag(client, site, one)
    _flag(client, site, two, reporter="a")
    _flag(client, site, two, reporter="b")
    add_user(services, "ani")
    login(client, "ani")
    assert [i["id"] for i in client.get("/api/v1/review/queue?queue=reported").get_json()["items"]] == [two]


def test_nul_in_a_report_is_refused(client: FlaskClient, services: Services, site: Site) -> None:
    """A NUL (U+0000) in the reporter or note is a 422 naming it; in the comment id a 404; nothing recorded."""
    cid = held_comment(services, site.id, "Komentar", status=Status.APPROVED)
    for field, extra in (("reporter", {"reporter": "r\u00001"}), ("note", {"note": "iklan\u0000"})):
        resp = _flag(client, site, cid, **extra)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], field
    assert _flag(client, site, cid[:-1] + "%00").status_code == 404
    assert _open_flags(services, cid) == 0
