"""Secret rotation: during the grace window both secrets verify, after it only the new one; replays stay refused."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from moderation.api.auth import forget_site
from moderation.cli import main
from moderation.delivery import signing
from moderation.services import Services
from moderation.store.sites import rotate_secret
from tests.support import Site, signed_request


def _rotate(services: Services, site: Site, grace: timedelta, now: datetime | None = None) -> Site:
    """Rotate in the database and drop this process's 5-second cache; returns the site with its new secret."""
    with services.db.session() as session:
        secret = rotate_secret(session, site.slug, grace, now).secret
    forget_site(site.slug)
    return Site(site.id, site.slug, secret, site.api_key)


def _post(client: Any, site: Site, ext: str) -> int:
    """A signed comment POST; returns the status code."""
    return int(signed_request(client, site, "POST", "/api/v1/comments", {"id": ext, "content": "isi"}).status_code)


def test_both_secrets_verify_during_grace(client: Any, site: Site, services: Services) -> None:
    """Old and new secrets both sign valid requests while the grace window is open."""
    new = _rotate(services, site, timedelta(hours=1))
    assert new.secret != site.secret
    assert _post(client, site, "old") == 202 and _post(client, new, "new") == 202


def test_old_secret_refused_after_grace(client: Any, site: Site, services: Services) -> None:
    """A window that has closed (or none at all) leaves only the new secret."""
    new = _rotate(services, site, timedelta(hours=1), now=datetime.now(UTC) - timedelta(hours=2))
    assert _post(client, site, "old") == 401 and _post(client, new, "new") == 202
    newer = _rotate(services, new, timedelta(0))
    assert _post(client, new, "mid") == 401 and _post(client, newer, "newest") == 202


def test_rotating_twice_never_revives_an_older_secret(client: Any, site: Site, services: Services) -> None:
    """Only the secret in use at rotation time is carried over."""
    first = _rotate(services, site, timedelta(hours=1))
    second = _rotate(services, first, timedelta(hours=1))
    assert _post(client, site, "a") == 401 and _post(client, first, "b") == 202 and _post(client, second, "c") == 202


def test_callbacks_are_signed_with_the_new_secret(client: Any, site: Site, services: Services, receiver: Any,
                                                  run_worker: Any) -> None:
    """After a rotation our callbacks carry signatures the site verifies with its new secret."""
    new = _rotate(services, site, timedelta(hours=1))
    _post(client, new, "cb")
    run_worker()
    request = receiver.requests[-1]
    verdict = signing.verify([new.secret], request["headers"]["X-Moderation-Timestamp"],
                             request["headers"]["X-Moderation-Signature"], "POST", "/hook", request["body"], 300)
    assert verdict.ok


def test_replay_outside_the_window_is_refused_and_inside_is_harmless(client: Any, site: Site,
                                                                    services: Services) -> None:
    """The same signed bytes replayed after 300 s are refused; replayed within, they change nothing (200 repeat)."""
    body = json.dumps({"id": "r1", "content": "isi komentar"}).encode()
    headers = {**signing.signed_headers(site.slug, site.secret, "POST", "/api/v1/comments", body),
               "Content-Type": "application/json"}
    assert client.post("/api/v1/comments", data=body, headers=headers).status_code == 202
    replay = client.post("/api/v1/comments", data=body, headers=headers)
    assert replay.status_code == 200  # idempotent by external id: not stored or scored twice
    stale = {**signing.signed_headers(site.slug, site.secret, "POST", "/api/v1/comments", body,
                                      now=time.time() - 301), "Content-Type": "application/json"}
    assert client.post("/api/v1/comments", data=body, headers=stale).status_code == 401


def test_cli_rotate_secret(site: Site, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """`moderation sites rotate-secret SLUG --grace-hours H` prints the new secret and when the old one stops."""
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    result = CliRunner().invoke(main, ["sites", "rotate-secret", site.slug, "--grace-hours", "2"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    until = datetime.fromisoformat(out["previous_secret_valid_until"])
    assert out["site"] == site.slug and out["secret"] != site.secret and len(out["secret"]) == 64
    assert timedelta(hours=1.9) < until - datetime.now(UTC) < timedelta(hours=2.1)
    missing = CliRunner().invoke(main, ["sites", "rotate-secret", "nope"])
    assert missing.exit_code != 0 and "no site" in missing.output
    negative = CliRunner().invoke(main, ["sites", "rotate-secret", site.slug, "--grace-hours", "-1"])
    assert negative.exit_code != 0


def test_cli_rotate_key_replaces_the_akismet_key(site: Site, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                 client: Any) -> None:
    """`moderation sites rotate-key SLUG` prints a new API key; it verifies, and the old one is refused."""
    from moderation.api import akismet_record

    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    result = CliRunner().invoke(main, ["sites", "rotate-key", site.slug])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["site"] == site.slug and out["api_key"] != site.api_key and len(out["api_key"]) == 32
    akismet_record._keys.clear()  # this process's few-second key cache (other processes expire theirs)
    verify = {"blog": "https://news.example.id"}
    assert client.post("/1.1/verify-key", data={**verify, "key": out["api_key"]}).get_data(as_text=True) == "valid"
    assert client.post("/1.1/verify-key", data={**verify, "key": site.api_key}).get_data(as_text=True) == "invalid"
    missing = CliRunner().invoke(main, ["sites", "rotate-key", "nope"])
    assert missing.exit_code != 0 and "no site" in missing.output
