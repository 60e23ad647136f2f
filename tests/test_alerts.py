"""Alerts: the digest over a real SMTP server and a real webhook receiver, its thresholds and interval, failures
retried without secrets in the logs, and the one-tap links (GET changes nothing, POST applies once)."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from rq import Queue
from sqlalchemy import select, update

from moderation.alerts.check import run_alerts
from moderation.alerts.links import LinkExpired, LinkInvalid, link_key, link_url, make_token, read_token
from moderation.services import Services
from moderation.settings import Settings
from moderation.store.models import AlertLinkUse, Comment, DecisionEvent, TrainingLabel
from tests.browser.support import held_comment
from tests.smtp_server import Mailbox, free_port, smtp_server
from tests.support import Receiver, Site
from workers import jobs
from workers.context import WorkerContext

HOSTILE = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> <!channel> & ok\n'
           'Approve: https://evil.example/approve \u202egnp.exe')
PUBLIC = "https://moderasi.example.id"


@pytest.fixture
def config(config: dict[str, Any], mailbox: Mailbox, receiver: Receiver) -> dict[str, Any]:
    """Alerts on: e-mail to the test's SMTP server, webhook to the test's receiver, an alert above 2 held."""
    return {**config, "alerts.smtp_url": f"smtp://127.0.0.1:{mailbox.port}",
            "alerts.email_to": "ani@example.id,budi@example.id", "alerts.email_from": "moderasi@example.id",
            "alerts.webhook_url": receiver.url + "/chat/T0/s3cr3t", "alerts.held_over": "2",
            "alerts.oldest_over": "3600", "alerts.interval": "600", "alerts.public_url": PUBLIC}


def _chat(receiver: Receiver) -> list[dict[str, Any]]:
    """The webhook posts the receiver got (site callbacks go to /hook)."""
    return [json.loads(r["body"]) for r in receiver.requests if r["path"].startswith("/chat")]


def _parts(message: Any) -> tuple[str, str]:
    """The text and HTML parts of a received alert."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _three_held(services: Services, site: Site, other: Site) -> list[str]:
    """Three held comments on two sites, the hostile one oldest (arrivals back-dated, oldest first)."""
    ids = [held_comment(services, site.id, HOSTILE, author_name="<b>Eve</b>"),
           held_comment(services, site.id, "Komentar biasa tentang banjir", author_name="Budi"),
           held_comment(services, other.id, "Promo pulsa murah", author_name="Cici")]
    with services.db.session() as session:
        for n, cid in enumerate(ids):
            session.execute(update(Comment).where(Comment.id == cid).values(
                received_at=datetime.now(UTC) - timedelta(minutes=30 - n)))
    return ids


def test_digest_reaches_mail_and_webhook_through_the_cron_job(
        services: Services, site: Site, make_site: Any, worker_context: WorkerContext, run_worker: Any,
        mailbox: Mailbox, receiver: Receiver) -> None:
    """The job on the maintenance queue mails both recipients and posts the webhook: counts per site, the
    oldest comments escaped for each format, and one-tap links under alerts.public_url."""
    other = make_site("kabar")
    ids = _three_held(services, site, other)
    Queue(worker_context.names.maintenance_queue, connection=worker_context.redis).enqueue(jobs.send_alerts)
    run_worker()
    (rcpts, message), = mailbox.wait_for(1)
    assert sorted(rcpts) == ["ani@example.id", "budi@example.id"]
    assert message["Subject"] == "[moderation] 3 comments held, oldest waiting 30 min"
    text, html = _parts(message)
    assert "news: 2 held" in text and "kabar: 1 held" in text
    line = next(ln for ln in text.splitlines() if "alert(1)" in ln)
    assert "Approve: https://evil" in line and "\u202e" not in text  # the commenter's text stays on its own line
    assert text.count(f"Approve: {PUBLIC}/alert/") == 3 and text.count(f"Spam:    {PUBLIC}/alert/") == 3
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Eve</b>" not in html and "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert html.index("alert(1)") < html.index("Komentar biasa") < html.index("Promo pulsa")
    post, = _chat(receiver)
    assert "<!channel>" not in post["text"] and "&lt;!channel&gt;" in post["text"]
    assert "news: 2" in post["text"] and "|Approve>" in post["text"]
    alert = post["alert"]
    assert alert["held"] == 3 and {s["site"]: s["held"] for s in alert["sites"]} == {"news": 2, "kabar": 1}
    assert [c["id"] for c in alert["comments"]] == ids and alert["comments"][0]["content"] == HOSTILE
    assert alert["comments"][0]["approve_url"].startswith(PUBLIC + "/alert/")


def test_one_digest_per_interval_across_processes(services: Services, site: Site, settings: Settings,
                                                  mailbox: Mailbox, receiver: Receiver) -> None:
    """Two processes' runs within alerts.interval send one mail and one webhook post between them."""
    _three_held(services, site, site)
    first, second = WorkerContext(settings), WorkerContext(settings)
    try:
        assert run_alerts(first) == {"email": "sent", "webhook": "sent"}
        assert run_alerts(second) == {"email": "sent recently", "webhook": "sent recently"}
        assert run_alerts(first) == {"email": "sent recently", "webhook": "sent recently"}
    finally:
        first.db.dispose()
        second.db.dispose()
    assert len(mailbox.wait_for(1)) == 1 and len(_chat(receiver)) == 1


def test_no_alert_until_a_threshold_is_passed(services: Services, site: Site, worker_context: WorkerContext,
                                              mailbox: Mailbox, receiver: Receiver) -> None:
    """Two held comments waiting minutes: not due. The oldest past alerts.oldest_over: due."""
    ids = [held_comment(services, site.id, f"Tunggu {n}") for n in range(2)]
    assert run_alerts(worker_context) == {"email": "not due", "webhook": "not due"}
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == ids[0]).values(
            received_at=datetime.now(UTC) - timedelta(seconds=3700)))
    assert run_alerts(worker_context) == {"email": "sent", "webhook": "sent"}
    _, message = mailbox.wait_for(1)[0]
    assert "the oldest has waited 1 h 01 min (alert after 1 h 00 min)" in _parts(message)[0]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a loopback test server
def test_a_failed_channel_is_logged_without_secrets_and_retried_next_run(
        services: Services, site: Site, settings: Settings, receiver: Receiver, caplog: Any) -> None:
    """SMTP down and the webhook answering 500: both logged without password or webhook path, neither
    blocks the other, and both go out on the next run once their servers answer."""
    port = free_port()
    ctx = WorkerContext(settings.with_overrides({"alerts.smtp_url": f"smtp://ani:hunter2@127.0.0.1:{port}"}))
    _three_held(services, site, site)
    receiver.script = [500]
    try:
        with caplog.at_level(logging.WARNING):
            assert run_alerts(ctx) == {"email": "failed", "webhook": "failed"}
        logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
        assert "alert not sent" in logged and "the webhook answered 500" in logged
        assert "hunter2" not in logged and "s3cr3t" not in logged
        receiver.script = []
        assert run_alerts(ctx) == {"email": "failed", "webhook": "sent"}  # one channel's failure holds nothing up
        with smtp_server(port, login=("ani", "hunter2")) as box:
            assert run_alerts(ctx) == {"email": "sent", "webhook": "sent recently"}
            assert len(box.wait_for(1)) == 1 and box.logins == ["ani"]
    finally:
        ctx.db.dispose()


def test_tokens_verify_expire_and_refuse_tampering(settings: Settings) -> None:
    """A token verifies with its key until it expires; any changed byte, or another key, is refused."""
    key = link_key(settings)
    token = make_token(key, "c1", "approve", int(time.time()) + 60)
    link = read_token(key, token, time.time())
    assert (link.comment_id, link.action) == ("c1", "approve") and len(link.nonce) == 32
    with pytest.raises(LinkExpired):
        read_token(key, token, time.time() + 61)
    body, mac = token.split(".")
    forged = make_token(key, "c2", "spam", int(time.time()) + 60).split(".")[0]
    for bad in (f"{forged}.{mac}", f"{body}.{mac[:-2]}", body, f"{body}x.{mac}", "", "a.b.c"):
        with pytest.raises(LinkInvalid):
            read_token(key, bad, time.time())
    with pytest.raises(LinkInvalid):
        read_token(b"another key", token, time.time())
    assert link_url(PUBLIC + "/", token) == f"{PUBLIC}/alert/{token}"


def _path(services: Services, comment_id: str, action: str, lifetime: int = 600) -> str:
    """The local path of a fresh one-tap link."""
    key = link_key(services.settings)
    return urlsplit(link_url(PUBLIC, make_token(key, comment_id, action, int(time.time()) + lifetime))).path


def test_one_tap_get_changes_nothing_and_post_applies_once(
        client: FlaskClient, services: Services, site: Site, run_worker: Any, receiver: Receiver) -> None:
    """GET shows the escaped comment and a confirm button; POST approves through the one write path (audit
    event by alert-link, labels, callback); the same link again, or the spam link, changes nothing."""
    cid = held_comment(services, site.id, HOSTILE)
    approve, spam = _path(services, cid, "approve"), _path(services, cid, "spam")
    for _ in range(2):  # a mail scanner fetching the link first
        page = client.get(approve)
        assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
        assert page.headers["Referrer-Policy"] == "no-referrer" and "script-src" not in page.headers[
            "Content-Security-Policy"]
    body = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)" in body and "<script>" not in body and ">Approve</button>" in body
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "held" and not session.scalars(select(AlertLinkUse)).all()
    done = client.post(approve)
    assert done.status_code == 200 and "Comment approved" in done.get_data(as_text=True)
    run_worker()
    with services.db.session() as session:
        comment = session.get(Comment, cid)
        assert (comment.status, comment.decided_by) == ("approved", "alert-link")
        assert comment.reasons[0] == {"code": "moderator.approve", "detail": "one-tap link from an alert"}
        event = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cid)
                                .order_by(DecisionEvent.id.desc())).first()
        assert (event.actor, event.from_status, event.to_status) == ("alert-link", "held", "approved")
        labels = {(t.head, t.label, t.source, t.actor) for t in session.scalars(
            select(TrainingLabel).where(TrainingLabel.comment_id == cid))}
        assert labels == {("spam", "ham", "moderator", "alert-link"), ("abusive", "clean", "moderator", "alert-link")}
    callback, = [json.loads(r["body"]) for r in receiver.requests if r["path"] == "/hook"]
    assert callback["event"] == "comment.moderated" and callback["comment"]["status"] == "approved"
    replay = client.post(approve)
    assert replay.status_code == 409 and "already used" in replay.get_data(as_text=True)
    assert client.get(approve).status_code == 409
    late = client.post(spam)
    assert late.status_code == 409 and "no longer held: it is approved" in late.get_data(as_text=True)
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "approved"
        assert len(session.scalars(select(AlertLinkUse)).all()) == 1


def test_one_tap_refuses_expired_tampered_and_unknown(client: FlaskClient, services: Services, site: Site) -> None:
    """An expired link answers 410, a tampered one 400, a link to no comment 404; none changes anything."""
    cid = held_comment(services, site.id, "Masih ditahan")
    expired = _path(services, cid, "spam", lifetime=-1)
    answer = client.post(expired)
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)
    good = _path(services, cid, "spam")
    head, mac = good.rsplit(".", 1)
    tampered = client.post(f"{head}.{mac[::-1]}")
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)
    assert client.post(_path(services, "nosuchcomment", "approve")).status_code == 404
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "held"
    assert client.post(good).status_code == 200
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "spam"
        assert {t.label for t in session.scalars(select(TrainingLabel).where(TrainingLabel.comment_id == cid))} == {
            "spam"}


def test_one_tap_page_speaks_the_phones_language(client: FlaskClient, services: Services, site: Site) -> None:
    """A moderator whose phone asks for Indonesian gets the one-tap page in Indonesian: the question, the button,
    the comment's state, what was done and why a used link does nothing (no login: Accept-Language decides)."""
    indonesian = {"Accept-Language": "id-ID,id;q=0.9"}
    cid = held_comment(services, site.id, "Masih ditahan")
    approve = _path(services, cid, "approve")
    shown = client.get(approve, headers=indonesian).get_data(as_text=True)
    assert '<html lang="id">' in shown and "Setujui?" in shown and ">Setujui</button>" in shown
    assert "Sekarang: <strong>ditahan</strong>" in shown and "Approve" not in shown
    done = client.post(approve, headers=indonesian).get_data(as_text=True)
    assert "Komentar disetujui" in done and "situs sudah diberi tahu" in done
    again = client.post(approve, headers=indonesian)
    assert again.status_code == 409 and "Tautan ini sudah dipakai" in again.get_data(as_text=True)
    late = client.post(_path(services, cid, "spam"), headers=indonesian).get_data(as_text=True)
    assert "tidak lagi ditahan: statusnya disetujui" in late
    assert "Link expired" in client.post(_path(services, cid, "spam", lifetime=-1)).get_data(as_text=True)


def test_cli_check_runs_once_and_test_sends_regardless(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                       services: Services, site: Site, mailbox: Mailbox,
                                                       receiver: Receiver) -> None:
    """`moderation alerts check` says nothing is due with one fresh held comment; `--test` sends it anyway,
    and again (it takes no slot), so a newsroom can check its SMTP and webhook settings."""
    from click.testing import CliRunner

    from moderation.cli import main

    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    held_comment(services, site.id, "Satu saja")
    runner = CliRunner()
    quiet = runner.invoke(main, ["alerts", "check"])
    assert quiet.exit_code == 0 and json.loads(quiet.output) == {"email": "not due", "webhook": "not due"}
    for _ in range(2):
        sent = runner.invoke(main, ["alerts", "check", "--test"])
        assert sent.exit_code == 0 and json.loads(sent.output) == {"email": "sent", "webhook": "sent"}
    _, message = mailbox.wait_for(2)[1]
    assert "moderation alerts check --test" in _parts(message)[0] and "Satu saja" in _parts(message)[1]
    assert len(_chat(receiver)) == 2


def test_without_a_public_url_the_digest_carries_no_links(services: Services, site: Site, settings: Settings,
                                                          mailbox: Mailbox, receiver: Receiver) -> None:
    """No alerts.public_url: the digest still counts and quotes, says how to get links, and links nowhere."""
    ctx = WorkerContext(settings.with_overrides({"alerts.public_url": ""}))
    _three_held(services, site, site)
    try:
        assert run_alerts(ctx) == {"email": "sent", "webhook": "sent"}
    finally:
        ctx.db.dispose()
    text, html = _parts(mailbox.wait_for(1)[0][1])
    assert "/alert/" not in text + html and "Set alerts.public_url to get one-tap links" in text
    alert = _chat(receiver)[0]["alert"]
    assert alert["held"] == 3 and all(c["approve_url"] is None for c in alert["comments"])


def test_racing_taps_apply_one_decision(app: Any, services: Services, site: Site) -> None:
    """Twelve simultaneous POSTs over real HTTP (the approve link eight times, the spam link four): exactly one
    applies; every other answers 409; one audit event and one used link are recorded."""
    import threading

    import httpx

    from tests.support import serve_app

    cid = held_comment(services, site.id, "Rebutan")
    paths = [_path(services, cid, "approve")] * 8 + [_path(services, cid, "spam")] * 4
    start, codes = threading.Barrier(len(paths)), []

    def tap(base: str, path: str) -> None:
        start.wait()
        codes.append(httpx.post(base + path, timeout=10).status_code)

    with serve_app(app) as base:
        threads = [threading.Thread(target=tap, args=(base, p)) for p in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert sorted(codes) == [200] + [409] * 11
    with services.db.session() as session:
        events = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cid,
                                                             DecisionEvent.actor == "alert-link")).all()
        assert len(events) == 1 and len(session.scalars(select(AlertLinkUse)).all()) == 1
