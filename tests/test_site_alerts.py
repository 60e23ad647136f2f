"""Alerts per site: a site with recipients of its own gets a digest of its own held queue only (counts, comments,
one-tap links), on its own interval slots, over a real SMTP server and a real webhook receiver, while the global
recipients keep getting every site as before."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from moderation.alerts.check import NO_SMTP, run_alerts, slot_key
from moderation.alerts.links import link_key, read_token
from moderation.services import Services
from moderation.settings import Settings
from moderation.store.models import Comment
from moderation.store.sites import site_by_slug
from tests.browser.support import held_comment
from tests.smtp_server import Mailbox
from tests.support import Receiver, Site
from workers.context import WorkerContext
from workers.worker import make_cron

PUBLIC = "https://moderasi.example.id"
GLOBAL_TO = ["ops@example.id"]
NEWS_TO = ["redaksi@news.example.id", "ani@news.example.id"]
KABAR_TO = ["meja@kabar.example.id"]


@pytest.fixture
def config(config: dict[str, Any], mailbox: Mailbox, receiver: Receiver) -> dict[str, Any]:
    """Global alerts on (ops's address and webhook), an alert above 2 held or after an hour, links on."""
    return {**config, "alerts.smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "alerts.email_to": ",".join(GLOBAL_TO),
            "alerts.email_from": "moderasi@example.id", "alerts.webhook_url": receiver.url + "/chat/ops/0ps-s3cr3t",
            "alerts.held_over": "2", "alerts.oldest_over": "3600", "alerts.interval": "600",
            "alerts.public_url": PUBLIC}


def _recipients(services: Services, slug: str, emails: list[str] | None, webhook: str | None) -> None:
    """Give a site its own alert recipients (as the admin page stores them)."""
    with services.db.session() as session:
        row = site_by_slug(session, slug)
        assert row is not None
        row.alert_emails, row.alert_webhook_url = emails, webhook


def _held(services: Services, site: Site, count: int, minutes: int = 30) -> list[str]:
    """``count`` held comments on a site, the first having waited ``minutes``, each later one a minute less."""
    ids = [held_comment(services, site.id, f"Komentar {site.slug} nomor {n}", author_name=f"Pembaca {site.slug}")
           for n in range(count)]
    with services.db.session() as session:
        for n, cid in enumerate(ids):
            session.execute(update(Comment).where(Comment.id == cid).values(
                received_at=datetime.now(UTC) - timedelta(minutes=minutes - n)))
    return ids


def _mail_to(received: list[tuple[list[str], EmailMessage]], recipients: list[str]) -> list[EmailMessage]:
    """The received messages whose envelope went to exactly these recipients."""
    return [m for rcpts, m in received if sorted(rcpts) == sorted(recipients)]


def _text(message: EmailMessage) -> str:
    """Both parts of a received alert, as one string."""
    return "".join(message.get_body(preferencelist=(kind,)).get_content() for kind in ("plain", "html"))


def _chat(receiver: Receiver, prefix: str) -> list[dict[str, Any]]:
    """The webhook posts that went to paths under ``prefix``."""
    return [json.loads(r["body"]) for r in receiver.requests if r["path"].startswith(prefix)]


def _linked_comments(services: Services, text: str) -> set[str]:
    """The comment ids every one-tap link in ``text`` acts on (tokens verified with the service's key)."""
    key = link_key(services.settings)
    return {read_token(key, t, time.time()).comment_id for t in re.findall(r"/alert/([A-Za-z0-9_\-.]+)", text)}


def _two_sites(services: Services, site: Site, make_site: Any, receiver: Receiver) -> tuple[Site, list[str], list[str]]:
    """news (its own e-mail and webhook) and kabar (its own e-mail), three held comments each."""
    kabar = make_site("kabar")
    _recipients(services, "news", NEWS_TO, receiver.url + "/chat/news/n3ws-s3cr3t")
    _recipients(services, "kabar", KABAR_TO, None)
    return kabar, _held(services, site, 3), _held(services, kabar, 3)


def test_a_sites_digest_holds_only_its_own_comments_and_links(
        services: Services, site: Site, make_site: Any, worker_context: WorkerContext, mailbox: Mailbox,
        receiver: Receiver) -> None:
    """news's recipients get news's counts, comments and one-tap links only, kabar's get kabar's only; each
    channel is reported by name; the global recipients get both sites."""
    kabar, news_ids, kabar_ids = _two_sites(services, site, make_site, receiver)
    assert run_alerts(worker_context) == {"email": "sent", "webhook": "sent", "site:kabar email": "sent",
                                          "site:news email": "sent", "site:news webhook": "sent"}
    received = mailbox.wait_for(3)
    (news_mail,), (kabar_mail,), (ops_mail,) = (_mail_to(received, to) for to in (NEWS_TO, KABAR_TO, GLOBAL_TO))
    assert news_mail["Subject"] == "[moderation] news: 3 comments held, oldest waiting 30 min"
    assert kabar_mail["Subject"] == "[moderation] kabar: 3 comments held, oldest waiting 30 min"
    assert _linked_comments(services, _text(news_mail)) == set(news_ids)
    assert _linked_comments(services, _text(kabar_mail)) == set(kabar_ids)
    assert "kabar" not in _text(news_mail) and "news" not in _text(kabar_mail)
    assert f"{PUBLIC}/?site=news" in _text(news_mail)
    (news_post,) = _chat(receiver, "/chat/news/")
    assert "kabar" not in json.dumps(news_post) and news_post["alert"]["site"] == "news"
    assert [c["id"] for c in news_post["alert"]["comments"]] == news_ids
    assert _linked_comments(services, json.dumps(news_post)) == set(news_ids)
    assert _linked_comments(services, _text(ops_mail)) == set(news_ids + kabar_ids[:2])  # digest_comments = 5


def test_the_global_channels_are_unchanged(services: Services, site: Site, make_site: Any,
                                           worker_context: WorkerContext, mailbox: Mailbox,
                                           receiver: Receiver) -> None:
    """With sites that have recipients of their own, ops's digest is the one it always was: every site's counts
    and oldest comments, a subject without a site, the console's front page, no 'site' in the webhook's data."""
    _two_sites(services, site, make_site, receiver)
    run_alerts(worker_context)
    (ops_mail,) = _mail_to(mailbox.wait_for(3), GLOBAL_TO)
    assert ops_mail["Subject"] == "[moderation] 6 comments held, oldest waiting 30 min"
    text = ops_mail.get_body(preferencelist=("plain",)).get_content()
    assert "news: 3 held" in text and "kabar: 3 held" in text and f"Everything else: {PUBLIC}/\r\n" in text
    (ops_post,) = _chat(receiver, "/chat/ops/")
    assert "site" not in ops_post["alert"] and {s["site"] for s in ops_post["alert"]["sites"]} == {"news", "kabar"}


def test_each_site_is_judged_on_its_own_queue_and_has_its_own_slots(
        services: Services, site: Site, make_site: Any, worker_context: WorkerContext, mailbox: Mailbox,
        receiver: Receiver) -> None:
    """kabar's one fresh comment is not due while news's three are; news's alert then takes only news's slots, so
    kabar's digest still goes out the moment kabar's queue calls for it."""
    kabar = make_site("kabar")
    _recipients(services, "news", NEWS_TO, None)
    _recipients(services, "kabar", KABAR_TO, receiver.url + "/chat/kabar/k4b4r")
    _held(services, site, 3)
    _held(services, kabar, 1)
    assert run_alerts(worker_context) == {"email": "sent", "webhook": "sent", "site:kabar email": "not due",
                                          "site:kabar webhook": "not due", "site:news email": "sent"}
    _held(services, kabar, 2)
    assert run_alerts(worker_context) == {"email": "sent recently", "webhook": "sent recently",
                                          "site:kabar email": "sent", "site:kabar webhook": "sent",
                                          "site:news email": "sent recently"}
    assert run_alerts(worker_context)["site:kabar email"] == "sent recently"
    prefix = services.settings["queue.prefix"]
    redis = worker_context.redis
    for channel in (f"site:{site.id}:email", f"site:{kabar.id}:email", f"site:{kabar.id}:webhook", "email"):
        assert 0 < redis.ttl(slot_key(prefix, channel)) <= 600, channel
    assert len(_mail_to(mailbox.wait_for(3), KABAR_TO)) == 1 and len(_chat(receiver, "/chat/kabar/")) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_failed_site_webhook_is_logged_without_its_url_and_retried(
        services: Services, site: Site, settings: Settings, receiver: Receiver, mailbox: Mailbox,
        caplog: Any) -> None:
    """The site's webhook answering 500 fails that channel alone, logged by channel name without any piece of the
    URL, and its slot is given back: the next run sends it."""
    _recipients(services, "news", NEWS_TO, receiver.url + "/chat/news/T0/n3ws-s3cr3t?token=t0k3n")
    _held(services, site, 3)
    ctx = WorkerContext(settings.with_overrides({"alerts.webhook_url": ""}))
    receiver.script = [500]
    try:
        with caplog.at_level(logging.DEBUG):
            assert run_alerts(ctx) == {"email": "sent", "site:news email": "sent", "site:news webhook": "failed"}
            assert run_alerts(ctx)["site:news webhook"] == "sent"
    finally:
        ctx.db.dispose()
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "site:news webhook" in logged and "the webhook answered 500" in logged
    assert "n3ws-s3cr3t" not in logged and "t0k3n" not in logged and "/chat/news" not in logged


def test_a_sites_webhook_address_is_checked_on_every_send(services: Services, site: Site, settings: Settings,
                                                          receiver: Receiver) -> None:
    """A webhook host that resolves to a loopback address after it was set (DNS answers what it likes) is not
    connected to when callbacks.block_private is on; the same URL is sent to with it off."""
    port = urlsplit(receiver.url).port
    _recipients(services, "news", None, f"http://localhost:{port}/chat/news/hook")  # a name, not an address
    _held(services, site, 3)
    for block, outcome in (("true", "failed"), ("false", "sent")):
        ctx = WorkerContext(settings.with_overrides({"alerts.webhook_url": "", "alerts.email_to": "",
                                                     "callbacks.block_private": block}))
        try:
            assert run_alerts(ctx) == {"site:news webhook": outcome}
        finally:
            ctx.db.dispose()
        assert len(_chat(receiver, "/chat/news/")) == (outcome == "sent")


def test_a_sites_email_needs_the_services_smtp_server(services: Services, site: Site, settings: Settings,
                                                      receiver: Receiver) -> None:
    """Without alerts.smtp_url there is no global channel; a site's e-mail says it has no server, its webhook
    still goes out."""
    _recipients(services, "news", NEWS_TO, receiver.url + "/chat/news/x")
    _held(services, site, 3)
    ctx = WorkerContext(settings.with_overrides({"alerts.smtp_url": "", "alerts.webhook_url": ""}))
    try:
        assert run_alerts(ctx) == {"site:news email": NO_SMTP, "site:news webhook": "sent"}
    finally:
        ctx.db.dispose()


def test_no_recipients_anywhere_sends_nothing(services: Services, site: Site, settings: Settings,
                                              receiver: Receiver) -> None:
    """Sites without recipients of their own add no channel: with no global one either, a run does nothing."""
    _held(services, site, 3)
    ctx = WorkerContext(settings.with_overrides({"alerts.smtp_url": "", "alerts.webhook_url": ""}))
    try:
        assert run_alerts(ctx) == {}
    finally:
        ctx.db.dispose()
    assert receiver.requests == []


def test_cli_check_reports_each_sites_channels(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                               services: Services, site: Site, mailbox: Mailbox,
                                               receiver: Receiver) -> None:
    """`moderation alerts check` names a site's channels ('site:news email'); `--test` sends them now."""
    from click.testing import CliRunner

    from moderation.cli import main

    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    _recipients(services, "news", NEWS_TO, None)
    _held(services, site, 1, minutes=1)
    runner = CliRunner()
    quiet = runner.invoke(main, ["alerts", "check"])
    assert json.loads(quiet.output) == {"email": "not due", "webhook": "not due", "site:news email": "not due"}
    sent = runner.invoke(main, ["alerts", "check", "--test"])
    assert sent.exit_code == 0 and json.loads(sent.output) == {"email": "sent", "webhook": "sent",
                                                               "site:news email": "sent"}
    (news_mail,) = _mail_to(mailbox.wait_for(2), NEWS_TO)
    assert "moderation alerts check --test" in _text(news_mail)


def test_cron_always_checks_alerts(settings: Settings) -> None:
    """make_cron registers send_alerts on the maintenance queue even with no global channel: an admin may give a
    site recipients of its own at any time, without restarting the cron process."""
    for overrides in ({}, {"alerts.smtp_url": "", "alerts.webhook_url": ""}):
        ctx = WorkerContext(settings.with_overrides(overrides))
        try:
            jobs = {job.func_name: job.queue_name for job in make_cron(ctx).get_jobs()}
        finally:
            ctx.db.dispose()
        assert jobs["workers.jobs.send_alerts"] == ctx.names.maintenance_queue
