"""The `moderation` command: sites, database, settings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from moderation.cli import main


@pytest.fixture
def runner(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner whose environment carries the test's settings."""
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    return CliRunner()


def test_sites_add_prints_credentials_once(runner: CliRunner) -> None:
    """`sites add` prints one JSON object with site, secret and api_key; `sites list` never shows the secret."""
    result = runner.invoke(main, ["sites", "add", "news", "--callback-url", "http://127.0.0.1:9000/hook"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["site"] == "news" and len(created["secret"]) >= 32 and len(created["api_key"]) >= 16
    listed = runner.invoke(main, ["sites", "list", "--json"])
    assert json.loads(listed.output.splitlines()[0])["callback_url"] == "http://127.0.0.1:9000/hook"
    assert created["secret"] not in listed.output and created["api_key"] not in listed.output


def test_duplicate_site_is_a_clear_error(runner: CliRunner) -> None:
    """Registering the same slug twice fails with a message and a non-zero exit."""
    runner.invoke(main, ["sites", "add", "dup"])
    result = runner.invoke(main, ["sites", "add", "dup"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_sites_alerts_sets_a_sites_recipients_and_never_prints_the_webhook(runner: CliRunner) -> None:
    """`sites alerts` shows and replaces a site's own recipients (the webhook masked); a bad value changes nothing."""
    runner.invoke(main, ["sites", "add", "news"])
    assert json.loads(runner.invoke(main, ["sites", "alerts", "news"]).output) == {
        "site": "news", "alert_emails": [], "alert_webhook_url": None}
    result = runner.invoke(main, ["sites", "alerts", "news", "--email", "ani@news.example.id", "--email",
                                  "budi@news.example.id", "--webhook", "https://hooks.example/T0/s3cr3t"])
    assert result.exit_code == 0 and "s3cr3t" not in result.output
    shown = {"site": "news", "alert_emails": ["ani@news.example.id", "budi@news.example.id"],
             "alert_webhook_url": "https://hooks.example/***"}
    assert json.loads(result.output) == shown
    for bad in (["--email", "ani@news.example.id", "--email", "not an address"],
                ["--email", "ani@news.example.id", "--webhook", "http://169.254.169.254/latest"]):
        refused = runner.invoke(main, ["sites", "alerts", "news", *bad])
        assert refused.exit_code != 0 and "Error:" in refused.output
    assert json.loads(runner.invoke(main, ["sites", "alerts", "news"]).output) == shown
    cleared = runner.invoke(main, ["sites", "alerts", "news", "--no-email", "--webhook", ""])
    assert json.loads(cleared.output) == {"site": "news", "alert_emails": [], "alert_webhook_url": None}
    assert runner.invoke(main, ["sites", "alerts", "nope"]).exit_code != 0


def test_db_upgrade_is_idempotent(runner: CliRunner) -> None:
    """Upgrading an up-to-date database is a no-op."""
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0


def test_settings_listing_hides_the_secret_key(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """`settings` shows values but not the session key."""
    monkeypatch.setenv("MODERATION_SECRET_KEY", "very-secret-value")
    result = runner.invoke(main, ["settings"])
    assert result.exit_code == 0 and "very-secret-value" not in result.output
    assert "serve.port = 8000" in result.output
