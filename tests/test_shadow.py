"""Shadow mode: the site's mode in every answer and callback, its own verdicts kept apart, and the comparison."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from moderation.cli import main
from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.models import Comment, DecisionEvent, SiteVerdict, TrainingLabel
from moderation.store.shadow import bucket, shadow_report
from moderation.store.sites import set_mode
from tests.browser.support import add_user, held_comment, login
from tests.support import Receiver, Site, signed_request


@pytest.fixture
def shadow_site(site: Site, services: Services) -> Site:
    """The test's site (callbacks to the receiver), put in shadow mode."""
    with services.db.session() as session:
        set_mode(session, site.slug, "shadow")
    return site


def _post(client: FlaskClient, site: Site, ext: str, content: str = "Terima kasih atas beritanya") -> Any:
    """Send one comment through intake."""
    return signed_request(client, site, "POST", "/api/v1/comments", {"id": ext, "content": content})


def _verdict(client: FlaskClient, site: Site, comment_id: str, body: Any) -> Any:
    """Report the site's verdict on one comment."""
    return signed_request(client, site, "POST", f"/api/v1/comments/{comment_id}/verdict", body)


def test_every_answer_and_callback_carries_the_mode(client: FlaskClient, shadow_site: Site, receiver: Receiver,
                                                    make_site: Callable[..., Site], run_worker: Callable[[], bool]
                                                    ) -> None:
    """Intake's answer, the read API and the comment.decided callback say "shadow"; an enforce site's say "enforce"."""
    answer = _post(client, shadow_site, "1")
    assert answer.status_code == 202 and answer.get_json()["mode"] == "shadow"
    enforce = make_site("other", receiver.url + "/other")
    assert _post(client, enforce, "1").get_json()["mode"] == "enforce"
    run_worker()
    modes = {r["path"]: json.loads(r["body"])["comment"]["mode"] for r in receiver.requests}
    assert modes == {"/hook": "shadow", "/other": "enforce"}
    read = signed_request(client, shadow_site, "GET", f"/api/v1/comments/{answer.get_json()['id']}")
    assert read.get_json()["mode"] == "shadow" and read.get_json()["status"] != "queued"


def test_a_verdict_is_stored_apart_and_moves_nothing(client: FlaskClient, shadow_site: Site, services: Services,
                                                     run_worker: Callable[[], bool]) -> None:
    """The site's verdict is kept (the latest wins) without touching our status, audit trail or training labels."""
    comment_id = _post(client, shadow_site, "7").get_json()["id"]
    run_worker()
    with services.db.session() as session:
        ours = session.get(Comment, comment_id).status
        events = session.scalar(select(func.count()).select_from(DecisionEvent))
    first = _verdict(client, shadow_site, comment_id, {"verdict": "spam", "source": "akismet"})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() | {"reported_at": None} == {"id": comment_id, "verdict": "spam", "source": "akismet",
                                                        "status": ours, "mode": "shadow", "reported_at": None}
    assert _verdict(client, shadow_site, comment_id, {"verdict": "approved", "source": "moderator"}).status_code == 200
    with services.db.session() as session:
        stored = session.get(SiteVerdict, comment_id)
        assert (stored.verdict, stored.source) == ("approved", "moderator")
        assert session.get(Comment, comment_id).status == ours
        assert session.scalar(select(func.count()).select_from(DecisionEvent)) == events
        assert session.scalar(select(func.count()).select_from(TrainingLabel)) == 0


def test_bad_verdicts_are_refused_and_change_nothing(client: FlaskClient, shadow_site: Site, services: Services,
                                                     make_site: Callable[..., Site]) -> None:
    """Unknown verdicts, bad sources, non-JSON bodies and another site's comment are refused; nothing is stored."""
    comment_id = _post(client, shadow_site, "8").get_json()["id"]
    for body, code in (({"verdict": "deleted"}, 422), ({"verdict": "spam", "source": 5}, 422),
                       ({"verdict": "spam", "source": "x" * 65}, 422), ({"verdict": "spam", "source": "a\x00"}, 422),
                       ([1], 400)):
        answer = _verdict(client, shadow_site, comment_id, body)
        assert answer.status_code == code, (body, answer.get_data(as_text=True))
    other = make_site("rival")
    assert _verdict(client, other, comment_id, {"verdict": "spam"}).status_code == 404
    unsigned = client.post(f"/api/v1/comments/{comment_id}/verdict", json={"verdict": "spam"})
    assert unsigned.status_code == 401
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SiteVerdict)) == 0


def test_buckets() -> None:
    """Agreement is about publishing; a disagreement says which way (caught, held, or published what they removed)."""
    assert bucket("approved", "approved") == "agree"
    assert bucket("spam", "rejected") == "agree" and bucket("held", "spam") == "agree"
    assert bucket("spam", "approved") == "caught_they_published"
    assert bucket("rejected", "approved") == "caught_they_published"
    assert bucket("held", "approved") == "held_they_published"
    assert bucket("approved", "spam") == "published_they_removed"
    assert bucket("approved", "held") == "published_they_removed"


def _seed(services: Services, site_id: int) -> dict[str, str]:
    """Decided comments with the site's verdicts: two agreements, one of each disagreement, one without a verdict."""
    made = {
        "agree-ham": held_comment(services, site_id, "Berita yang bagus", spam=0.1, status=Status.APPROVED),
        "agree-spam": held_comment(services, site_id, "slot gacor", spam=0.99, status=Status.SPAM),
        "caught": held_comment(services, site_id, "<script>alert(1)</script>\x1b[31mBELI OBAT\u202e", spam=0.97,
                               status=Status.SPAM),
        "held": held_comment(services, site_id, "Mungkin promo", spam=0.6),
        "missed": held_comment(services, site_id, "Kunjungi situs kami", spam=0.2, status=Status.APPROVED),
        "no-verdict": held_comment(services, site_id, "Tanpa verdict", spam=0.1, status=Status.APPROVED),
    }
    theirs = {"agree-ham": "approved", "agree-spam": "spam", "caught": "approved", "held": "approved",
              "missed": "spam"}
    from moderation.store.shadow import record_verdict

    with services.db.session() as session:
        for name, verdict in theirs.items():
            record_verdict(session, session.get(Comment, made[name]), verdict, "moderator")
    return made


def test_report_counts_and_examples(services: Services, shadow_site: Site) -> None:
    """The report's counts, matrix and examples, and nothing from another site."""
    made = _seed(services, shadow_site.id)
    with services.db.session() as session:
        report = shadow_report(session, shadow_site.id, shadow_site.slug).as_dict()
    assert report["compared"] == 5 and report["without_verdict"] == 1 and report["agreement"] == 0.4
    assert report["counts"] == {"agree": 2, "caught_they_published": 1, "held_they_published": 1,
                                "published_they_removed": 1}
    assert report["matrix"] == {"approved": {"approved": 1, "spam": 1}, "spam": {"spam": 1, "approved": 1},
                                "held": {"approved": 1}}
    assert [e["id"] for e in report["examples"]["caught_they_published"]] == [made["caught"]]
    assert report["examples"]["published_they_removed"][0]["theirs"] == "spam"


def test_cli_modes_and_report(settings: Any, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sites add --mode shadow`, `sites mode`, `sites list` and `report shadow` (text escaped, JSON)."""
    for name, value in (("MODERATION_DATABASE_URL", settings["database_url"]),
                        ("MODERATION_DATA_DIR", settings["data_dir"])):
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    added = runner.invoke(main, ["sites", "add", "trial", "--mode", "shadow"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["mode"] == "shadow"
    assert "shadow" in runner.invoke(main, ["sites", "list"]).output
    with services.db.session() as session:
        from moderation.store.sites import site_by_slug

        site_id = site_by_slug(session, "trial").id  # type: ignore[union-attr]
    _seed(services, site_id)
    text = runner.invoke(main, ["report", "shadow", "--site", "trial"])
    assert text.exit_code == 0, text.output
    assert "agreement 40.0%" in text.output
    assert re.search(r"caught they published +1\n", text.output)
    assert "\x1b" not in text.output and "\u202e" not in text.output and "\\x1b[31mBELI OBAT\\u202e" in text.output
    as_json = json.loads(runner.invoke(main, ["report", "shadow", "--site", "trial", "--json"]).output)
    assert as_json["counts"]["held_they_published"] == 1
    future = json.loads(runner.invoke(main, ["report", "shadow", "--site", "trial", "--json",
                                             "--since", "2999-01-01"]).output)
    assert future["compared"] == 0 and future["agreement"] is None
    assert runner.invoke(main, ["report", "shadow", "--site", "trial", "--since", "yesterday"]).exit_code == 2
    assert runner.invoke(main, ["report", "shadow", "--site", "nope"]).exit_code == 1
    switched = runner.invoke(main, ["sites", "mode", "trial", "enforce"])
    assert json.loads(switched.output) == {"site": "trial", "mode": "enforce"}
    assert runner.invoke(main, ["sites", "mode", "trial", "loud"]).exit_code == 2
    assert runner.invoke(main, ["sites", "mode", "nope", "shadow"]).exit_code == 1


def test_console_admin_switches_mode_and_shows_the_report(client: FlaskClient, services: Services,
                                                          shadow_site: Site) -> None:
    """The admin page's mode select switches a site; the shadow page shows the figures, escaped."""
    _seed(services, shadow_site.id)
    add_user(services, "boss", role="admin")
    login(client, "boss")
    page = client.get(f"/shadow?site={shadow_site.slug}").get_data(as_text=True)
    assert 'id="agreement">40.0 %' in page and 'id="count-caught_they_published">1' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.get("/shadow?site=nope").status_code == 404
    assert client.get(f"/shadow?site={shadow_site.slug}&since=soon").status_code == 400
    from tests.browser.support import page_token

    token = page_token(client, "/admin")
    saved = client.post(f"/admin/sites/{shadow_site.slug}", data={"csrf_token": token, "mode": "enforce",
                                                                   "callback_url": ""})
    assert saved.status_code == 302
    with services.db.session() as session:
        from moderation.store.sites import site_by_slug

        assert site_by_slug(session, shadow_site.slug).mode == "enforce"  # type: ignore[union-attr]
    refused = client.post(f"/admin/sites/{shadow_site.slug}", data={"csrf_token": token, "mode": "loud"})
    assert refused.status_code == 302
    with services.db.session() as session:
        assert site_by_slug(session, shadow_site.slug).mode == "enforce"  # type: ignore[union-attr]


def test_scoped_moderator_sees_only_their_sites_report(client: FlaskClient, services: Services, shadow_site: Site,
                                                       make_site: Callable[..., Site]) -> None:
    """A moderator scoped to another site gets a 404 for this site's report."""
    other = make_site("elsewhere")
    with services.db.session() as session:
        from moderation.store.users import create_user, set_scope

        create_user(session, "scoped", "moderator", "correct horse battery")
        set_scope(session, "scoped", [other.id])
    login(client, "scoped")
    assert client.get(f"/shadow?site={shadow_site.slug}").status_code == 404
    assert client.get(f"/shadow?site={other.slug}").status_code == 200


def test_removed_approvals_never_count_as_implicit_ham(services: Services, shadow_site: Site) -> None:
    """An approval of ours that the shadow site kept off its pages is not an unreported (weak ham) approval."""
    from datetime import UTC, datetime, timedelta

    from moderation.store.labels import unreported_approvals
    from moderation.store.shadow import record_verdict

    kept = held_comment(services, shadow_site.id, "Berita bagus", spam=0.1, status=Status.APPROVED)
    removed = held_comment(services, shadow_site.id, "Kunjungi situs kami", spam=0.2, status=Status.APPROVED)
    with services.db.session() as session:
        record_verdict(session, session.get(Comment, kept), "approved", "moderator")
        record_verdict(session, session.get(Comment, removed), "spam", "moderator")
        rows = unreported_approvals(session, shadow_site.id, datetime.now(UTC) + timedelta(hours=1), 10)
    assert [r.comment_id for r in rows] == [kept]
