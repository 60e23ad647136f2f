"""A site's own alert recipients as admins set them, on the admin page and through the review API's site PATCH:
validated all or nothing, the webhook URL (a secret) shown only masked and never logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from moderation.console.actions import ActionError
from moderation.console.site_alerts import clean_webhook, mask_webhook
from moderation.services import Services
from moderation.store.sites import site_by_slug
from tests.browser.support import add_user, login, page_token
from tests.support import Site

SECRET = "T000/B000/s3cr3tw3bh00k"
WEBHOOK = f"https://hooks.example.id/services/{SECRET}"
MASKED = "https://hooks.example.id/***"
SITE = "/api/v1/review/sites/news"


@pytest.fixture
def admin(client: FlaskClient, services: Services, site: Site) -> dict[str, str]:
    """An admin logged in on ``client``; the CSRF header of the review API."""
    add_user(services, "root", "admin")
    login(client, "root")
    return {"X-CSRFToken": page_token(client)}


def _stored(services: Services) -> tuple[Any, ...]:
    """The news site's alert recipients, threshold, mode and callback URL as stored."""
    with services.db.session() as session:
        row = site_by_slug(session, "news")
        assert row is not None
        return row.alert_emails, row.alert_webhook_url, row.approve_below, row.mode, row.callback_url


def test_the_api_sets_recipients_and_answers_the_webhook_masked(client: FlaskClient, services: Services,
                                                                admin: dict[str, str], caplog: Any) -> None:
    """PATCH stores the addresses (domain lower-cased, duplicates once) and the webhook; every answer shows it
    masked; the masked form sent back keeps it; null and [] clear both; nothing logged holds it."""
    with caplog.at_level(logging.DEBUG):
        answer = client.patch(SITE, headers=admin, json={
            "alert_emails": ["Redaksi@News.Example.ID", "ani@news.example.id", "redaksi@news.example.id"],
            "alert_webhook_url": WEBHOOK})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["alert_emails"] == ["Redaksi@news.example.id", "ani@news.example.id"]
        assert answer.get_json()["alert_webhook_url"] == MASKED and SECRET not in answer.get_data(as_text=True)
        listed = client.get("/api/v1/review/sites")
        assert listed.get_json()["sites"][0]["alert_webhook_url"] == MASKED
        assert SECRET not in listed.get_data(as_text=True)
        read_back = {**answer.get_json(), "approve_below": 0.3}
        del read_back["site"], read_back["previous_secret_until"]
        assert client.patch(SITE, headers=admin, json=read_back).status_code == 200
        assert _stored(services)[:3] == (["Redaksi@news.example.id", "ani@news.example.id"], WEBHOOK, 0.3)
        cleared = client.patch(SITE, headers=admin, json={"alert_emails": [], "alert_webhook_url": None})
        assert cleared.get_json()["alert_emails"] == [] and cleared.get_json()["alert_webhook_url"] is None
    assert _stored(services)[:2] == (None, None)
    assert not [r for r in caplog.records if SECRET in f"{r.getMessage()} {r.__dict__}"]


BAD_BODIES = [
    ({"alert_emails": ["not-an-address"]}, 400), ({"alert_emails": "ani@example.id"}, 400),
    ({"alert_emails": [f"a{n}@example.id" for n in range(21)]}, 400), ({"alert_emails": [7]}, 400),
    ({"alert_emails": ["ani@example.id, budi@example.id"]}, 400), ({"alert_emails": ["Ani <ani@example.id>"]}, 400),
    ({"alert_emails": ["ani@example.id\r\nBcc: x@evil.example"]}, 400),
    ({"alert_emails": ["a" * 250 + "@example.id"]}, 400), ({"alert_emails": ["ani\u0000@example.id"]}, 422),
    ({"alert_webhook_url": "ftp://hooks.example.id/x"}, 400), ({"alert_webhook_url": "javascript:alert(1)"}, 400),
    ({"alert_webhook_url": "http://169.254.169.254/latest/meta-data"}, 400),
    ({"alert_webhook_url": "http://metadata.google.internal/x"}, 400),
    ({"alert_webhook_url": "https://hooks.example.id/" + "x" * 2048}, 400),
    ({"alert_webhook_url": " " * 2049}, 400), ({"alert_webhook_url": "https://hooks.example.id/a b"}, 400),
    ({"alert_webhook_url": "https://hooks.example.id:99999/x"}, 400), ({"alert_webhook_url": 42}, 400),
    ({"alert_webhook_url": "https://hooks.example.id/\u0000"}, 422),
    ({"alert_emails": ["ok@example.id"], "alert_webhook_url": "ftp://x"}, 400),
    ({"alert_emails": ["ok@example.id"], "approve_below": 0.99}, 400),
    ({"alert_emails": ["ok@example.id"], "mode": "bogus"}, 400),
    ({"alert_emails": ["ok@example.id"], "alert_secret": "x"}, 400),
]


def test_bad_recipients_are_refused_whole_and_change_nothing(client: FlaskClient, services: Services,
                                                             admin: dict[str, str]) -> None:
    """Each bad address, list or URL (alone or beside a good change) is a 400, or a 422 for NUL, naming the field;
    the site, recipients included, is as it was."""
    first = {"alert_emails": ["redaksi@news.example.id"], "alert_webhook_url": WEBHOOK, "approve_below": 0.3}
    assert client.patch(SITE, headers=admin, json=first).status_code == 200
    before = _stored(services)
    for body, status in BAD_BODIES:
        answer = client.patch(SITE, headers=admin, json=body)
        assert answer.status_code == status, (body, answer.get_data(as_text=True))
        error = answer.get_json()["error"]
        assert status == 422 or any(f in error["message"] for f in ("alert_", "approve_below", "mode", "unknown")), body
        assert _stored(services) == before, body


def test_the_admin_page_sets_recipients_and_never_shows_the_webhook(client: FlaskClient, services: Services,
                                                                    admin: dict[str, str]) -> None:
    """The page's alert form saves addresses and a webhook; the page shows the webhook masked only; an empty webhook
    field keeps it, 'remove' clears it; a bad address is refused whole; the thresholds form leaves them alone."""
    token, form = page_token(client, "/admin"), "/admin/sites/news/alerts"
    typed = "redaksi@news.example.id,\nani@news.example.id"
    saved = client.post(form, data={"csrf_token": token, "alert_emails": typed, "alert_webhook_url": WEBHOOK},
                        follow_redirects=True).get_data(as_text=True)
    assert "Saved the alert recipients of" in saved
    assert _stored(services)[:2] == (["redaksi@news.example.id", "ani@news.example.id"], WEBHOOK)
    page = client.get("/admin").get_data(as_text=True)
    assert SECRET not in page and "s3cr3t" not in page and MASKED in page
    assert 'value="redaksi@news.example.id, ani@news.example.id"' in page
    client.post(form, data={"csrf_token": token, "alert_emails": "redaksi@news.example.id", "alert_webhook_url": ""})
    assert _stored(services)[:2] == (["redaksi@news.example.id"], WEBHOOK)
    client.post("/admin/sites/news", data={"csrf_token": token, "approve_below": "0.4", "spam_above": "0.95"})
    assert _stored(services)[:3] == (["redaksi@news.example.id"], WEBHOOK, 0.4)
    bad = client.post(form, data={"csrf_token": token, "alert_emails": "ok@example.id nope",
                                  "alert_webhook_remove": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Not saved: alert_emails: &#39;nope&#39; is not an e-mail address" in bad and SECRET not in bad
    assert _stored(services)[:2] == (["redaksi@news.example.id"], WEBHOOK)
    client.post(form, data={"csrf_token": token, "alert_emails": "", "alert_webhook_remove": "1"})
    assert _stored(services)[:2] == (None, None)
    assert "Set; shown masked" not in client.get("/admin").get_data(as_text=True)


@pytest.mark.parametrize(("url", "block_private", "allowed"), [
    ("https://hooks.example.id/x", True, True), ("http://127.0.0.1:9/chat", False, True),
    ("http://127.0.0.1:9/chat", True, False), ("http://10.0.0.5/chat", True, False), ("http://[::1]/chat", True, False),
    ("http://[fe80::1]/chat", False, False), ("http://169.254.169.254/", False, False),
    ("http://[::ffff:169.254.169.254]/", False, False), ("https://hooks.example.id/ünicode", False, False),
    ("https://[nope/x", False, False), ("hooks.example.id/x", False, False),
])
def test_webhook_urls_follow_the_callback_url_rules(url: str, block_private: bool, allowed: bool) -> None:
    """Metadata and link-local addresses are always refused, private and loopback ones with callbacks.block_private;
    malformed, non-ASCII or scheme-less URLs are refused, never a crash."""
    if allowed:
        assert clean_webhook(url, None, block_private) == url
    else:
        with pytest.raises(ActionError):
            clean_webhook(url, None, block_private)


def test_the_mask_keeps_only_scheme_host_and_port() -> None:
    """A password, path and query never survive the mask; the same host's mask sent back keeps the stored URL."""
    assert mask_webhook("https://u:pw@Hooks.Example.id:8443/T0/s3cr3t?token=t0k") == "https://hooks.example.id:8443/***"
    assert mask_webhook("http://[::1]:9/x") == "http://[::1]:9/***" and mask_webhook(None) is None
    assert clean_webhook(MASKED, WEBHOOK, False) == WEBHOOK
    assert clean_webhook("https://other.example.id/new", WEBHOOK, False) == "https://other.example.id/new"
