"""The security review of #13, finding by finding, through the HTTP interface: each test failed on the main
it was filed against (privileges, allow rules, sessions, proxies, the door's answers, chunked bodies, HSTS)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from moderation.app import create_app
from moderation.console.admin import add_entry
from moderation.services import Services, get_services
from moderation.store.models import Comment, ListEntry
from moderation.store.users import disable_user, set_password, set_role, set_scope
from tests.browser.support import add_user, held_comment, login, page_token
from tests.support import Site, serve_app, signed_request


def _moderator(client: FlaskClient, services: Services, name: str = "mod", role: str = "moderator") -> dict[str, str]:
    """A logged-in account and the CSRF header its console sends."""
    add_user(services, name, role)
    assert login(client, name).status_code == 302
    return {"X-CSRFToken": page_token(client)}


def _entries(services: Services) -> list[tuple[str, str, str]]:
    """Every list entry as (action, kind, value)."""
    with services.db.session() as session:
        return [(e.action, e.kind, e.value) for e in session.scalars(select(ListEntry))]


# 1. A moderator can trust a whole network ------------------------------------------------------------------

@pytest.mark.parametrize("network", ["0.0.0.0/0", "::/0", "10.0.0.0/8"])
def test_a_moderator_cannot_trust_or_ban_a_network(client: FlaskClient, services: Services, site: Site,
                                                    network: str) -> None:
    """Trust or ban of a range by a moderator is 403 and writes nothing; one address is fine."""
    csrf = _moderator(client, services)
    for verdict in ("trust", "ban"):
        answer = client.post("/api/v1/review/authors", headers=csrf,
                             json={"site": site.slug, "verdict": verdict, "kind": "ip", "value": network})
        assert answer.status_code == 403, answer.get_json()
    assert _entries(services) == []
    one = client.post("/api/v1/review/authors", headers=csrf,
                      json={"site": site.slug, "verdict": "trust", "kind": "ip", "value": "203.0.113.9/32"})
    assert one.status_code == 200 and _entries(services) == [("allow", "ip", "203.0.113.9")]


def test_an_admin_may_still_trust_a_network(client: FlaskClient, services: Services, site: Site) -> None:
    """Ranges stay possible, for admins."""
    csrf = _moderator(client, services, "boss", "admin")
    answer = client.post("/api/v1/review/authors", headers=csrf,
                         json={"site": site.slug, "verdict": "trust", "kind": "ip", "value": "10.0.0.0/8"})
    assert answer.status_code == 200 and _entries(services) == [("allow", "ip", "10.0.0.0/8")]


def test_a_scoped_moderator_sees_and_acts_on_their_sites_only(client: FlaskClient, services: Services,
                                                               make_site: Callable[..., Site]) -> None:
    """Scope news: sport's held comments are not in their queue, not readable, not actionable, not bannable."""
    news, sport = make_site("news"), make_site("sport")
    mine = held_comment(services, news.id, "komentar berita")
    theirs = held_comment(services, sport.id, "komentar olahraga")
    add_user(services, "scoped")
    with services.db.session() as session:
        set_scope(session, "scoped", [news.id])
    assert login(client, "scoped").status_code == 302
    csrf = {"X-CSRFToken": page_token(client)}
    ids = [item["id"] for item in client.get("/api/v1/review/queue").get_json()["items"]]
    assert ids == [mine]
    assert client.get("/api/v1/review/queue?site=sport").status_code == 400
    assert client.get(f"/api/v1/review/comments/{theirs}").status_code == 404
    acted = client.post("/api/v1/review/actions", headers=csrf,
                        json={"action": "approve", "ids": [mine, theirs], "expected": "held"}).get_json()
    assert acted["applied"] == [mine] and acted["skipped"] == {theirs: "no such comment"}
    banned = client.post("/api/v1/review/authors", headers=csrf,
                         json={"site": "sport", "verdict": "ban", "kind": "email", "value": "x@example.id"})
    assert banned.status_code == 400 and _entries(services) == []
    with services.db.session() as session:
        assert session.get(Comment, theirs).status == "held"  # type: ignore[union-attr]


# 2. An allowed domain can be claimed -----------------------------------------------------------------------

def _post(client: FlaskClient, site: Site, external_id: str, content: str, **author: Any) -> str:
    """Intake one comment; returns its service id."""
    answer = signed_request(client, site, "POST", "/api/v1/comments",
                            {"id": external_id, "content": content, "author": author})
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def test_a_claimed_allowed_domain_does_not_approve_denied_spam(client: FlaskClient, services: Services, site: Site,
                                                               run_worker: Callable[[], bool]) -> None:
    """kompas.com allowed, 'slot gacor' denied: spam whose typed website is kompas.com is marked spam; a clean
    comment claiming it goes to the model; only a verified author's own site approves, never over a deny rule."""
    with services.db.session() as session:
        add_entry(session, site.id, "allow", "domain", "kompas.com")
        add_entry(session, site.id, "deny", "word", "slot gacor")
    claimed = _post(client, site, "c1", "slot gacor maxwin malam ini http://spam.example",
                    url="https://kompas.com/profil")
    clean = _post(client, site, "c2", "Semoga jembatan cepat selesai", url="https://kompas.com/profil")
    verified = _post(client, site, "c3", "Semoga jembatan cepat selesai", url="https://kompas.com/profil",
                     verified=True)
    verified_spam = _post(client, site, "c4", "slot gacor maxwin", url="https://kompas.com/profil", verified=True)
    run_worker()
    with services.db.session() as session:
        got = {c.id: (c.status, c.reasons[0]["code"]) for c in session.scalars(select(Comment))}
    assert got[claimed] == ("spam", "rule.deny.word")
    assert got[clean][1].startswith("policy.")  # decided by the model, not by the claimed domain
    assert got[verified] == ("approved", "rule.allow.domain")
    assert got[verified_spam] == ("spam", "rule.deny.word")


# 3. Logout does not end a session ------------------------------------------------------------------------

def _cookie(client: FlaskClient) -> str:
    """The console's session cookie as the browser holds it."""
    cookie = client.get_cookie("moderation_console")
    assert cookie is not None
    return cookie.value


def _me(app: Flask, cookie: str) -> int:
    """GET /api/v1/review/me with a copied cookie, from a fresh client."""
    other = app.test_client()
    other.set_cookie("moderation_console", cookie)
    return other.get("/api/v1/review/me").status_code


def test_logout_ends_a_copied_session(app: Flask, client: FlaskClient, services: Services) -> None:
    """A cookie copied before logout is refused after it."""
    csrf = _moderator(client, services)
    copied = _cookie(client)
    assert _me(app, copied) == 200
    assert client.post("/logout", headers=csrf, data={"csrf_token": csrf["X-CSRFToken"]}).status_code == 302
    assert _me(app, copied) == 401


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_account_changes_end_open_sessions(app: Flask, client: FlaskClient, services: Services, change: str) -> None:
    """A new password, a new role or disabling ends every open session of the account."""
    _moderator(client, services)
    copied = _cookie(client)
    with services.db.session() as session:
        {"password": lambda: set_password(session, "mod", "another long password"),
         "role": lambda: set_role(session, "mod", "admin"),
         "disable": lambda: disable_user(session, "mod")}[change]()
    assert _me(app, copied) == 401
    if change == "disable":
        assert login(app.test_client(), "mod").status_code == 401


def test_sessions_have_an_absolute_lifetime(app: Flask, client: FlaskClient, services: Services) -> None:
    """However busy, a session older than console.session_max_hours is over."""
    _moderator(client, services)
    assert client.get("/api/v1/review/me").status_code == 200
    with client.session_transaction() as sess:
        sess["iat"] = int(time.time()) - services.settings["console.session_max_hours"] * 3600 - 5
    assert client.get("/api/v1/review/me").status_code == 401


def test_users_cli_changes_accounts_and_ends_their_sessions(app: Flask, client: FlaskClient, services: Services,
                                                             config: dict[str, Any], site: Site) -> None:
    """`moderation users passwd|role|scope|disable|remove`: password from stdin, each change ends sessions."""
    from click.testing import CliRunner

    from moderation.cli import main

    _moderator(client, services)
    env = {"MODERATION_" + k.upper().replace(".", "_"): str(v) for k, v in config.items()}
    runner = CliRunner(env=env)
    steps = [(["users", "passwd", "mod"], "a brand new password\n"), (["users", "role", "mod", "admin"], None),
             (["users", "scope", "mod", site.slug], None), (["users", "disable", "mod"], None),
             (["users", "remove", "mod"], None)]
    for args, stdin in steps:
        copied = _cookie(client) if args[1] != "remove" else None
        done = runner.invoke(main, args, input=stdin)
        assert done.exit_code == 0, done.output
        assert "a brand new password" not in done.output
        if copied:
            assert _me(app, copied) == 401
        if args[1] in ("passwd", "role", "scope"):
            assert login(client, "mod", "a brand new password").status_code == 302
    assert runner.invoke(main, ["users", "passwd", "nobody"], input="x" * 12 + "\n").exit_code != 0
    assert runner.invoke(main, ["users", "list"]).output == ""


# 4. Limits keyed on the proxy's address -------------------------------------------------------------------

@pytest.fixture
def proxied_app(config: dict[str, Any]) -> Iterator[Flask]:
    """The app behind one trusted proxy (serve.trusted_proxies = 1)."""
    application = create_app({**config, "serve.trusted_proxies": "1"})
    yield application
    get_services(application).db.dispose()


def _via_proxy(client_ip: str, **extra: str) -> dict[str, Any]:
    """Request options as the proxy sends them: from its address, naming the real client."""
    return {"environ_base": {"REMOTE_ADDR": "10.0.0.2"}, "headers": {"X-Forwarded-For": client_ip, **extra}}


def test_bad_akismet_keys_are_limited_per_real_client_and_never_starve_other_clients(proxied_app: Flask) -> None:
    """Behind the proxy, one client's guessed keys get that client 429 (for every key: no oracle); another
    client's invalid and valid keys are answered as usual (before, all callers shared the proxy's address)."""
    services = get_services(proxied_app)
    from moderation.store.sites import create_site

    with services.db.session() as session:
        key = create_site(session, "akis").api_key
    client = proxied_app.test_client()
    form = {"blog": "https://news.example.id"}
    answers = [client.post("/1.1/verify-key", data={**form, "key": f"bad-{i}"}, **_via_proxy("198.51.100.7"))
               for i in range(40)]
    assert answers[-1].status_code == 429
    assert client.post("/1.1/verify-key", data={**form, "key": "bad-x"},
                       **_via_proxy("198.51.100.8")).get_data(as_text=True) == "invalid"
    assert client.post("/1.1/verify-key", data={**form, "key": key},
                       **_via_proxy("198.51.100.8")).get_data(as_text=True) == "valid"
    assert client.post("/1.1/verify-key", data={**form, "key": key}, **_via_proxy("198.51.100.7")).status_code == 429


def test_failed_logins_slow_the_account_from_any_address_and_lock_only_the_callers_address(
        proxied_app: Flask) -> None:
    """Spraying one name from many addresses is slowed (back-off, not a long lock); one address guessing many
    names is locked; a colleague on another address logs in."""
    services = get_services(proxied_app)
    add_user(services, "ani")
    add_user(services, "budi")
    limit = services.settings["console.login_max_failures"]
    client = proxied_app.test_client()

    def attempt(name: str, password: str, ip: str) -> Any:
        token = page_token(client, "/login")
        return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                           **_via_proxy(ip))

    for i in range(limit):
        assert attempt("ani", "guess", f"203.0.113.{i + 1}").status_code == 401
    slowed = attempt("ani", "correct horse battery", "203.0.113.99")
    assert slowed.status_code == 429 and 0 < int(slowed.headers["Retry-After"]) <= 60
    for i in range(limit * 4):
        attempt(f"nobody{i}", "guess", "198.51.100.50")
    assert attempt("budi", "correct horse battery", "198.51.100.50").status_code == 429
    assert attempt("budi", "correct horse battery", "198.51.100.51").status_code == 302


# 7. The door tells more than it should ---------------------------------------------------------------------

def test_unknown_and_registered_sites_get_the_same_401(client: FlaskClient, site: Site) -> None:
    """A wrong signature for a real site and any signature for an unknown one answer the same body."""
    path = "/api/v1/comments?external_id=x"
    real = signed_request(client, Site(site.id, site.slug, "0" * 64, site.api_key), "GET", path)
    unknown = signed_request(client, Site(0, "no-such-site", "0" * 64, ""), "GET", path)
    assert real.status_code == unknown.status_code == 401
    assert real.get_json() == unknown.get_json()


def test_metrics_only_for_allowed_addresses_or_the_token(config: dict[str, Any]) -> None:
    """/metrics names every site: 403 from elsewhere, 200 from an allowed address or with the bearer token."""
    application = create_app({**config, "metrics.token": "s3cret-token-for-prometheus"})
    try:
        client = application.test_client()
        outside = {"REMOTE_ADDR": "203.0.113.5"}
        assert client.get("/metrics", environ_base=outside).status_code == 403
        wrong = {"Authorization": "Bearer wrong"}
        assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 403
        assert client.get("/metrics", environ_base=outside,
                          headers={"Authorization": "Bearer s3cret-token-for-prometheus"}).status_code == 200
        assert client.get("/metrics").status_code == 200  # loopback is in metrics.allow by default
    finally:
        get_services(application).db.dispose()


def test_akismet_submissions_are_rate_limited_per_site(config: dict[str, Any]) -> None:
    """submit-spam feeds training: past the site's per-minute limit it answers 429 and records nothing."""
    application = create_app({**config, "intake.rate_limit_per_minute": "3"})
    services = get_services(application)
    try:
        from moderation.store.models import TrainingLabel
        from moderation.store.sites import create_site

        with services.db.session() as session:
            key = create_site(session, "labels").api_key
        client = application.test_client()
        answers = [client.post("/1.1/submit-spam", data={"api_key": key, "user_ip": "203.0.113.7",
                                                         "comment_content": f"slot gacor {i}"}).status_code
                   for i in range(6)]
        assert answers[:3] == [200, 200, 200] and 429 in answers[3:]
        with services.db.session() as session:
            assert len(list(session.scalars(select(TrainingLabel)))) == answers.count(200)
    finally:
        services.db.dispose()


# 8. A chunked body over the limit -------------------------------------------------------------------------

def test_a_chunked_body_over_the_limit_is_413_not_401(app: Flask, site: Site) -> None:
    """Over real HTTP, a chunked (no Content-Length) body past intake.max_body_bytes answers 413."""
    limit = get_services(app).settings["intake.max_body_bytes"]
    with serve_app(app) as url:
        def chunks() -> Iterator[bytes]:
            yield b'{"id": "big", "content": "'
            for _ in range(limit // 8192 + 2):
                yield b"a" * 8192
            yield b'"}'

        answer = requests.post(url + "/api/v1/comments", data=chunks(), timeout=30,
                               headers={"Content-Type": "application/json", "X-Moderation-Site": site.slug,
                                        "X-Moderation-Timestamp": str(int(time.time())),
                                        "X-Moderation-Signature": "0" * 64})
        assert answer.status_code == 413
        small = requests.post(url + "/api/v1/comments", data=iter([b'{"id": "s", ', b'"content": "ok"}']),
                              timeout=30, headers={"Content-Type": "application/json"})
        assert small.status_code == 401  # a small chunked body is read whole (and, unsigned, refused)


# 9. HSTS behind HTTPS ------------------------------------------------------------------------------------

def test_hsts_when_the_trusted_proxy_says_https(proxied_app: Flask, app: Flask) -> None:
    """Strict-Transport-Security on answers to HTTPS requests only; the header is trusted only from the proxy."""
    secure = proxied_app.test_client().get("/healthz", **_via_proxy("203.0.113.5", **{"X-Forwarded-Proto": "https"}))
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = proxied_app.test_client().get("/healthz", **_via_proxy("203.0.113.5"))
    assert "Strict-Transport-Security" not in plain.headers
    forged = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})  # no trusted proxy
    assert "Strict-Transport-Security" not in forged.headers


# 5. Erasure leaves copies, and undo brings text back ------------------------------------------------------

def test_erasure_reaches_every_copy_and_undo_brings_nothing_back(client: FlaskClient, services: Services,
                                                                 site: Site, settings: Any,
                                                                 run_worker: Callable[[], bool]) -> None:
    """After `privacy purge`, no quoted word of the person survives in undo records, callback payloads, report
    notes or list entries (kept as a keyed hash that still matches); undoing an older action restores none."""
    from moderation.privacy import purge_email
    from moderation.store.models import CallbackDelivery, Flag, ReviewAction

    quoted = [{"code": "model.spam", "detail": "'andi santoso' +2.10"}]
    cid = held_comment(services, site.id, "andi santoso jual slot", author_email="andi@example.id", reasons=quoted)
    with services.db.session() as session:
        add_entry(session, site.id, "deny", "email", "andi@example.id")
    csrf = _moderator(client, services)
    assert client.post("/api/v1/review/actions", headers=csrf,
                       json={"action": "approve", "ids": [cid], "expected": "held"}).get_json()["applied"] == [cid]
    flagged = signed_request(client, site, "POST", f"/api/v1/comments/{cid}/flags",
                             {"reason": "spam", "reporter": "r1", "note": "ini andi santoso dari rt 3"})
    assert flagged.status_code == 202
    purge_email(services.db, settings, "Andi@Example.id")
    with services.db.session() as session:
        kept = json.dumps([a.changes for a in session.scalars(select(ReviewAction))])
        kept += json.dumps([d.payload for d in session.scalars(select(CallbackDelivery))])
        kept += json.dumps([f.note for f in session.scalars(select(Flag))])
        listed = [e.value for e in session.scalars(select(ListEntry).where(ListEntry.kind == "email"))]
    assert "andi" not in kept.lower() and "santoso" not in kept.lower()
    assert len(listed) == 1 and listed[0].startswith("h:")
    assert client.post("/api/v1/review/undo", headers=csrf, json={}).status_code == 200
    with services.db.session() as session:
        comment = session.get(Comment, cid)
        assert comment is not None and comment.status == "held"
        assert "andi" not in json.dumps(comment.reasons).lower()
    again = _post(client, site, "after", "halo semua", email="andi@example.id")
    run_worker()
    with services.db.session() as session:
        decided = session.get(Comment, again)
        assert decided is not None and decided.status == "spam" and decided.reasons[0]["code"] == "rule.deny.email"


# 6. One slow site can stall every site's callbacks ------------------------------------------------------

@pytest.fixture
def trickler() -> Iterator[str]:
    """A callback endpoint that answers one byte every 0.3 s (about 13 s for a whole 200 OK); yields its URL."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok":
                    if stop.wait(0.3):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    server.close()


def test_a_trickling_site_is_cut_off_at_the_deadline_and_holds_no_other_site(trickler: str, receiver: Any) -> None:
    """Each delivery ends by callbacks.timeout in all; in one batch, the trickler does not delay the good site."""
    from moderation.delivery.callbacks import send_all
    from moderation.delivery.posting import CallbackClient
    from moderation.store.callbacks import Outgoing

    client = CallbackClient(deadline=1.0)
    outs = [Outgoing(1, "slow", trickler, "0" * 64, b'{"event": "x"}', "c-slow"),
            Outgoing(2, "good", receiver.url + "/hook", "0" * 64, b'{"event": "x"}', "c-good")]
    started = time.monotonic()
    slow, good = send_all(client, outs, concurrency=4)
    elapsed = time.monotonic() - started
    assert slow.status_code is None and slow.error == "DeadlineExceeded"
    assert good.ok and len(receiver.requests) == 1
    assert elapsed < 2.5  # the trickler alone would take about 13 s


def test_callbacks_never_reach_link_local_or_metadata_addresses(client: FlaskClient, services: Services,
                                                                 site: Site, receiver: Any) -> None:
    """Refused when set (console, CLI) and again when sending; private/loopback only with block_private."""
    from moderation.delivery.posting import CallbackClient, url_problem

    for url in ("http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/",
                "http://[fe80::1]/hook", "http://[::ffff:169.254.169.254]/"):
        assert url_problem(url) is not None, url
    assert url_problem("http://10.0.0.5/hook") is None and url_problem("http://10.0.0.5/hook", True) is not None
    csrf = _moderator(client, services, "boss", "admin")
    refused_url = client.patch(f"/api/v1/review/sites/{site.slug}", headers=csrf,
                               json={"callback_url": "http://169.254.169.254/latest"})
    assert refused_url.status_code == 400
    answer = CallbackClient(deadline=2.0, block_private=True).post(receiver.url + "/hook", b"{}", {})
    assert answer.status is None and answer.error == "RefusedAddress" and receiver.requests == []
    assert CallbackClient(deadline=2.0).post(receiver.url + "/hook", b"{}", {}).status == 200
