"""Console login: scrypt hashes, secure cookie flags, CSRF, rate-limited attempts, logout, the users CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from flask.testing import FlaskClient

from moderation.services import Services
from moderation.store.models import User
from tests.browser.support import PASSWORD, add_user, csrf_from, login, page_token


def test_password_is_stored_as_a_scrypt_hash(services: Services) -> None:
    """The database holds a salted scrypt hash, never the password."""
    add_user(services, "ani")
    add_user(services, "budi")
    with services.db.session() as session:
        hashes = {u.name: u.password_hash for u in session.query(User)}
    assert all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes.values())
    assert hashes["ani"] != hashes["budi"]  # per-user salt


def test_login_sets_a_secure_httponly_cookie_and_logout_ends_it(client: FlaskClient, services: Services) -> None:
    """A good login redirects to the queue with a Secure, HttpOnly, SameSite cookie; logout ends the session."""
    add_user(services, "ani")
    resp = login(client, "ani")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    token = page_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient, services: Services) -> None:
    """Both answer 401 with the same message, so names cannot be probed."""
    add_user(services, "ani")
    wrong = login(client, "ani", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong name or password." in wrong.data and b"Wrong name or password." in unknown.data
    assert client.get("/").status_code == 302


def test_login_attempts_are_rate_limited_per_name_and_ip(client: FlaskClient, services: Services) -> None:
    """After console.login_max_failures failures even the right password is refused (429 with Retry-After)."""
    add_user(services, "ani")
    limit = services.settings["console.login_max_failures"]
    for _ in range(limit):
        assert login(client, "ani", "guess").status_code == 401
    blocked = login(client, "ani")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert client.get("/").status_code == 302
    add_user(services, "budi")
    assert login(client, "budi").status_code == 302  # another name from the same IP is not locked out


def test_login_form_needs_its_csrf_token(client: FlaskClient, services: Services) -> None:
    """A login POST without the token is refused (no login CSRF) and logs nobody in."""
    add_user(services, "ani")
    resp = client.post("/login", data={"name": "ani", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_state_changing_requests_without_csrf_are_refused(client: FlaskClient, services: Services) -> None:
    """Logged in, a POST to the review API or a console form without the token is a 400 and changes nothing."""
    add_user(services, "ani", "admin")
    login(client, "ani")
    resp = client.post("/api/v1/review/undo", json={})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_request"
    assert client.post("/logout").status_code == 400
    assert client.post("/admin/lists", data={"action": "deny", "kind": "word", "value": "judi"}).status_code == 400
    token = page_token(client, "/admin")
    assert b"judi" not in client.get("/admin").data
    wrong = client.post("/admin/lists", data={"action": "deny", "kind": "word", "value": "judi",
                                              "csrf_token": token[:-2] + "xx"})
    assert wrong.status_code == 400


def test_open_redirects_are_refused(client: FlaskClient, services: Services) -> None:
    """?next= only ever leads to a path on this site."""
    add_user(services, "ani")
    for target, expected in (("https://evil.example/", "/"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
                             ("/stats?days=7", "/stats?days=7")):
        token = csrf_from(client.get("/login").get_data(as_text=True))  # a login starts a fresh session
        resp = client.post("/login", data={"name": "ani", "password": PASSWORD, "csrf_token": token, "next": target})
        assert resp.status_code == 302 and resp.headers["Location"] == expected


def test_deleted_user_loses_the_session(client: FlaskClient, services: Services) -> None:
    """Every request checks the account still exists."""
    add_user(services, "ani")
    login(client, "ani")
    with services.db.session() as session:
        session.query(User).filter_by(name="ani").delete()
    assert client.get("/").status_code == 302


def test_users_cli_reads_the_password_from_stdin(config: dict[str, Any], services: Services) -> None:
    """`moderation users add NAME --role admin` takes the password on stdin; bad input changes nothing."""
    env = {"PATH": "/usr/bin:/bin", "MODERATION_DATABASE_URL": config["database_url"],
           "MODERATION_DATA_DIR": config["data_dir"], "MODERATION_REDIS_URL": config["redis_url"]}
    cmd = [sys.executable, "-m", "moderation.cli", "users", "add", "siti", "--role", "admin"]
    done = subprocess.run(cmd, input="a long enough password\n", capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"user": "siti", "role": "admin"}
    assert "a long enough password" not in done.stdout + done.stderr
    again = subprocess.run(cmd, input="a long enough password\n", capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode != 0 and "already exists" in again.stderr
    short = subprocess.run([*cmd[:5], "wati"], input="short\n", capture_output=True, text=True, env=env, timeout=60)
    assert short.returncode != 0 and "at least" in short.stderr
    bad_role = subprocess.run([*cmd[:5], "wati", "--role", "root"], input="a long enough password\n",
                              capture_output=True, text=True, env=env, timeout=60)
    assert bad_role.returncode != 0
    with services.db.session() as session:
        assert [u.name for u in session.query(User)] == ["siti"]
