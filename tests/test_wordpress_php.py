"""The WordPress plugin (integrations/wordpress) against our LIVE server: its PHP run by php-cli, then a real WordPress.

Part one needs only php-cli: the plugin's signing is byte-for-byte ours, the
request it builds is accepted with 202 and stored exactly, our signed callbacks
verify in its PHP and tampered ones do not. Part two installs Debian's
WordPress into a fresh MariaDB database (root on 127.0.0.1:3306), serves it
with ``php -S`` and runs the whole loop: a visitor's comment is held and sent,
the worker decides, the signed callback changes the comment's status in
WordPress; a moderator's decision does too; a forged callback changes nothing;
and the must-use plugin points the stock Akismet plugin at our Akismet API.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from moderation import signing
from moderation.store.comments import get_by_external
from moderation.store.models import Comment
from tests.support import Site

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "integrations" / "wordpress" / "moderation-comments"
MU_PLUGIN = REPO / "integrations" / "wordpress" / "mu-plugins" / "moderation-akismet-bridge.php"
SIGNING_PHP = PLUGIN / "includes" / "signing.php"
WORDPRESS = Path("/usr/share/wordpress")
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (CI installs it in .ci/run)")


def php(code: str, stdin: str = "", timeout: float = 60) -> str:
    """Run PHP code with the plugin's signing functions loaded; returns standard output (fails on errors)."""
    script = f"<?php\nerror_reporting(E_ALL);\nrequire {json.dumps(str(SIGNING_PHP))};\n{code}\n"
    done = subprocess.run([PHP or "php", "-d", "display_errors=stderr"], input=script, capture_output=True,
                          text=True, timeout=timeout, env={"STDIN_DATA": stdin, "PATH": "/usr/bin"})
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return done.stdout


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app on a real socket (werkzeug's threaded server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


SIGN_CASES = [
    ("s3cr3t", "1795800000", "post", "/api/v1/comments", b'{"id":"1","content":"halo"}'),
    ("k" * 64, "1700000000", "GET", "/api/v1/comments?external_id=12%2034&x=%C3%A9", b""),
    ("ünïcode-sécret", "0", "POST", "/wp-json/moderation/v1/callback", "Berita bagus 👍 \"kutipan\" \\ /".encode()),
    ("x", "1795800000", "PATCH", "/", bytes(range(256))),
]


def test_signing_is_byte_for_byte_ours() -> None:
    """modcom_sign() gives exactly moderation.signing.sign() for text, unicode, queries, empty and binary bodies."""
    payload = json.dumps([{"secret": s, "ts": t, "method": m, "path": p, "body": base64.b64encode(b).decode()}
                          for s, t, m, p, b in SIGN_CASES])
    out = php("""foreach (json_decode(getenv('STDIN_DATA'), true) as $c) {
        echo modcom_sign($c['secret'], $c['ts'], $c['method'], $c['path'], base64_decode($c['body'])), "\\n"; }""",
              stdin=payload)
    assert out.split() == [signing.sign(s, t, m, p, b) for s, t, m, p, b in SIGN_CASES]


COMMENT_FIELDS = {
    "comment_ID": 4321, "comment_content": 'Mantap beritanya, semoga Sulsel tetap aman 👍 <b>"tebal"</b> \\ / ',
    "comment_author": "Andi Üzeyir", "comment_author_email": "andi@example.id", "comment_author_url": "",
    "comment_author_IP": "203.0.113.7", "comment_agent": "Mozilla/5.0 (X11)", "comment_post_ID": 987,
    "post_url": "https://news.example.id/2017/09/kamtibmas", "post_title": "Kamtibmas & \"lainnya\"",
    "comment_parent": 0, "comment_date_gmt": "2026-11-27 10:00:00", "lang": "id",
}


def test_built_request_is_accepted_and_stored_exactly(live_url: str, site: Site, services: Any) -> None:
    """The plugin's body and headers, sent by PHP to the live server: 202, then a repeat 200; every field stored."""
    code = """$d = json_decode(getenv('STDIN_DATA'), true);
    $body = modcom_comment_body($d['fields']);
    $headers = modcom_signed_headers($d['site'], $d['secret'], 'POST', '/api/v1/comments', $body);
    $lines = array('Content-Type: application/json');
    foreach ($headers as $k => $v) { $lines[] = "$k: $v"; }
    $ctx = stream_context_create(array('http' => array('method' => 'POST', 'header' => implode("\\r\\n", $lines),
        'content' => $body, 'ignore_errors' => true)));
    $answer = file_get_contents($d['url'] . '/api/v1/comments', false, $ctx);
    echo json_encode(array('status' => $http_response_header[0], 'answer' => json_decode($answer, true)));"""
    stdin = json.dumps({"fields": COMMENT_FIELDS, "site": site.slug, "secret": site.secret, "url": live_url})
    first, again = (json.loads(php(code, stdin)) for _ in range(2))
    assert " 202 " in first["status"] and first["answer"]["external_id"] == "4321", first
    assert " 200 " in again["status"] and again["answer"]["id"] == first["answer"]["id"], again
    with services.db.session() as session:
        stored = get_by_external(session, site.id, "4321")
        assert stored is not None and stored.id == first["answer"]["id"]
        assert stored.content == COMMENT_FIELDS["comment_content"]
        assert (stored.author_name, stored.author_email, stored.author_url, stored.author_ip, stored.user_agent) == (
            "Andi Üzeyir", "andi@example.id", None, "203.0.113.7", "Mozilla/5.0 (X11)")
        assert (stored.post_id, stored.post_url, stored.post_title, stored.parent_id, stored.lang) == (
            "987", COMMENT_FIELDS["post_url"], COMMENT_FIELDS["post_title"], None, "id")
        assert stored.created_at is not None and stored.created_at.isoformat().startswith("2026-11-27T10:00:00")


def test_wrong_secret_request_is_refused(live_url: str, site: Site, services: Any) -> None:
    """The same PHP request signed with another secret is a 401 and stores nothing."""
    code = """$d = json_decode(getenv('STDIN_DATA'), true);
    $body = modcom_comment_body($d['fields']);
    $h = modcom_signed_headers($d['site'], 'not-the-secret', 'POST', '/api/v1/comments', $body);
    $lines = array('Content-Type: application/json');
    foreach ($h as $k => $v) { $lines[] = "$k: $v"; }
    $ctx = stream_context_create(array('http' => array('method' => 'POST', 'ignore_errors' => true,
        'content' => $body, 'header' => implode("\\r\\n", $lines))));
    file_get_contents($d['url'] . '/api/v1/comments', false, $ctx);
    echo $http_response_header[0];"""
    status = php(code, json.dumps({"fields": COMMENT_FIELDS, "site": site.slug, "url": live_url}))
    assert " 401 " in status
    with services.db.session() as session:
        assert session.scalars(select(Comment)).first() is None


def _verify(secret: str, headers: dict[str, str], path: str, body: bytes, expected_site: str) -> str:
    """What the plugin's modcom_verify() says about one callback ('' when it verifies)."""
    stdin = json.dumps({"secret": secret, "site": expected_site, "h": headers, "path": path,
                        "body": base64.b64encode(body).decode()})
    return php("""$d = json_decode(getenv('STDIN_DATA'), true); $h = $d['h'];
        echo modcom_verify($d['secret'], $d['site'], $h['X-Moderation-Site'] ?? null,
            $h['X-Moderation-Timestamp'] ?? null, $h['X-Moderation-Signature'] ?? null, 'POST', $d['path'],
            base64_decode($d['body']));""", stdin)


def test_our_callback_verifies_and_tampered_ones_do_not() -> None:
    """A callback signed by moderation.signing verifies in PHP; changed body, path, site, secret or age do not."""
    secret, path = secrets.token_hex(32), "/index.php?rest_route=/moderation/v1/callback"
    body = json.dumps({"event": "comment.decided", "comment": {"id": "abc", "external_id": "7",
                                                              "status": "spam"}}).encode()
    headers = signing.signed_headers("news", secret, "POST", path, body)
    assert _verify(secret, headers, path, body, "news") == ""
    assert _verify(secret, headers, path, body.replace(b"spam", b"approved"), "news") == "signature does not match"
    assert _verify(secret, headers, path + "&x=1", body, "news") == "signature does not match"
    assert _verify(secrets.token_hex(32), headers, path, body, "news") == "signature does not match"
    assert _verify(secret, headers, path, body, "other-site") == "wrong site"
    stale = signing.signed_headers("news", secret, "POST", path, body, now=time.time() - 301)
    assert _verify(secret, stale, path, body, "news") == "timestamp outside the allowed window"
    assert _verify(secret, {k: v for k, v in headers.items() if k != signing.SIGNATURE_HEADER}, path, body,
                   "news") == "missing signature"
    assert _verify("", headers, path, body, "news") == "plugin not configured"


# ---------------------------------------------------------------- a real WordPress (Debian package + MariaDB)

BOOTSTRAP = """<?php
define('DB_NAME', {db}); define('DB_USER', 'root'); define('DB_PASSWORD', ''); define('DB_HOST', '127.0.0.1:3306');
define('DB_CHARSET', 'utf8mb4'); define('DB_COLLATE', '');
define('WP_HOME', {home}); define('WP_SITEURL', {home});
define('WP_CONTENT_DIR', {content}); define('WP_CONTENT_URL', {home} . '/wp-content');
define('DISABLE_WP_CRON', true); define('AUTOMATIC_UPDATER_DISABLED', true); define('WP_DEBUG', false);
define('MODCOM_AKISMET_URL', {service});
foreach (array('AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT',
                'LOGGED_IN_SALT', 'NONCE_SALT') as $k) {{
    define($k, {salt} . $k);
}}
$table_prefix = 'wp_';
if (!isset($_SERVER['HTTP_HOST'])) {{  // php-cli: look like a request to this install
    $_SERVER['HTTP_HOST'] = {host}; $_SERVER['REQUEST_URI'] = '/'; $_SERVER['SERVER_NAME'] = '127.0.0.1';
}}
define('ABSPATH', '/usr/share/wordpress/');
require_once ABSPATH . 'wp-settings.php';
"""

ROUTER = """<?php
// php -S router: every request goes through WordPress with our bootstrap (not Debian's /etc/wordpress config).
define('WP_USE_THEMES', false);
require __DIR__ . '/bootstrap.php';
wp();
"""


def _free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mariadb_up() -> bool:
    """MariaDB answers on 127.0.0.1:3306."""
    try:
        with socket.create_connection(("127.0.0.1", 3306), timeout=1):
            return True
    except OSError:
        return False


class WordPress:
    """A throw-away WordPress install: its own database, wp-content with our plugins, served by php -S."""

    def __init__(self, root: Path, service_url: str):
        self.root, self.port = root, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = f"wp_test_{secrets.token_hex(4)}"
        self.callback_url = f"{self.url}/index.php?rest_route=/moderation/v1/callback"
        content = root / "wp-content"
        (content / "plugins").mkdir(parents=True)
        (content / "mu-plugins").mkdir()
        (content / "plugins" / "moderation-comments").symlink_to(PLUGIN)
        (content / "plugins" / "akismet").symlink_to(WORDPRESS / "wp-content" / "plugins" / "akismet")
        (content / "mu-plugins" / MU_PLUGIN.name).symlink_to(MU_PLUGIN)
        q = json.dumps
        (root / "bootstrap.php").write_text(BOOTSTRAP.format(
            db=q(self.db), home=q(self.url), content=q(str(content)), service=q(service_url),
            salt=q(secrets.token_hex(16)), host=q(f"127.0.0.1:{self.port}")))
        (root / "router.php").write_text(ROUTER.format())
        self.server: subprocess.Popen[bytes] | None = None

    def run(self, code: str, stdin: Any = None) -> Any:
        """Run PHP inside this WordPress (CLI, loaded like a request); returns the JSON it echoes."""
        script = self.root / f"run-{secrets.token_hex(4)}.php"
        script.write_text("<?php\nrequire __DIR__ . '/bootstrap.php';\n"
                          f"$in = json_decode(getenv('STDIN_DATA'), true);\n{code}\n")
        done = subprocess.run([PHP or "php", str(script)], capture_output=True, text=True, timeout=120,
                              env={"STDIN_DATA": json.dumps(stdin), "PATH": "/usr/bin"})
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def install(self, site: Site, service_url: str) -> None:
        """Create the database, install WordPress, activate the plugin and configure it for our site."""
        subprocess.run([PHP or "php", "-r", f"$m = new mysqli('127.0.0.1', 'root', '', '', 3306); "
                        f"$m->query('CREATE DATABASE `{self.db}` CHARACTER SET utf8mb4') or exit(1);"], check=True)
        script = self.root / "install.php"
        script.write_text("<?php\ndefine('WP_INSTALLING', true);\nrequire __DIR__ . '/bootstrap.php';\n"
                          "require_once ABSPATH . 'wp-admin/includes/upgrade.php';\n"
                          "wp_install('Berita Test', 'admin', 'admin@example.id', true, '', 'admin-password');\n"
                          "echo 'ok';\n")
        done = subprocess.run([PHP or "php", str(script)], capture_output=True, text=True, timeout=180,
                              env={"PATH": "/usr/bin"})
        assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout[-2000:] + done.stderr[-2000:]
        self.run("""require_once ABSPATH . 'wp-admin/includes/plugin.php';
            $r = activate_plugin('moderation-comments/moderation-comments.php');
            update_option('modcom_url', $in['url']); update_option('modcom_site', $in['site']);
            update_option('modcom_secret', $in['secret']); update_option('comment_moderation', 0);
            update_option('comment_previously_approved', 0);
            echo json_encode(array('error' => is_wp_error($r) ? $r->get_error_message() : null));""",
                 {"url": service_url, "site": site.slug, "secret": site.secret})

    def start(self) -> None:
        """Serve it with PHP's built-in server (a few workers, so WordPress can call us while we call it)."""
        self.server = subprocess.Popen([PHP or "php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.root),
                                        str(self.root / "router.php")], cwd=self.root, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL,
                                       env={"PATH": "/usr/bin", "PHP_CLI_SERVER_WORKERS": "4"})
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("php -S did not start")

    def stop(self) -> None:
        """Stop the server and drop the database."""
        if self.server:
            self.server.terminate()
            self.server.wait(10)
        subprocess.run([PHP or "php", "-r", f"$m = new mysqli('127.0.0.1', 'root', '', '', 3306); "
                        f"$m->query('DROP DATABASE IF EXISTS `{self.db}`');"], check=False)

    def comment(self, comment_id: int) -> dict[str, Any]:
        """A comment's WordPress status and our meta."""
        return self.run("""$c = get_comment((int) $in);
            echo json_encode(array('approved' => $c->comment_approved, 'status' => wp_get_comment_status($c),
                'service_id' => get_comment_meta($c->comment_ID, '_modcom_id', true)));""", comment_id)  # type: ignore[no-any-return]


@pytest.fixture
def wordpress(tmp_path: Path, live_url: str, make_site: Callable[..., Site]) -> Iterator[tuple[WordPress, Site]]:
    """An installed, running WordPress with our plugin configured for a registered site."""
    if not (WORDPRESS / "wp-settings.php").exists():
        pytest.skip("Debian's wordpress package is not installed (CI installs it in .ci/run)")
    if not _mariadb_up():
        pytest.skip("no MariaDB/MySQL on 127.0.0.1:3306 for WordPress")
    wp = WordPress(tmp_path / "wp", live_url)
    site = make_site("wordpress", wp.callback_url)
    try:
        wp.install(site, live_url)
        wp.start()
        yield wp, site
    finally:
        wp.stop()


NEW_COMMENT = """$id = wp_new_comment(array('comment_post_ID' => 1, 'comment_author' => $in['author'],
    'comment_author_email' => 'pembaca@example.id', 'comment_author_url' => '', 'comment_content' => $in['content'],
    'comment_type' => 'comment', 'comment_parent' => 0, 'user_id' => 0, 'comment_author_IP' => '203.0.113.9',
    'comment_agent' => 'Mozilla/5.0'), true);
echo json_encode(is_wp_error($id) ? array('error' => $id->get_error_message()) : array('id' => $id));"""


def _service_comment(services: Any, site: Site, wp_id: int) -> Comment:
    """Our stored comment for a WordPress comment id."""
    with services.db.session() as session:
        found = get_by_external(session, site.id, str(wp_id))
        assert found is not None, "the plugin did not send the comment"
        session.expunge(found)
        return found


WP_STATUS = {"approved": "approved", "held": "unapproved", "spam": "spam", "rejected": "trash"}


def test_wordpress_comment_round_trip(wordpress: tuple[WordPress, Site], services: Any, client: Any,
                                      run_worker: Callable[[], bool]) -> None:
    """A visitor's comment is held and sent; the worker's decision and then a moderator's reach WordPress."""
    wp, site = wordpress
    made = wp.run(NEW_COMMENT, {"author": "Pembaca", "content": "Semoga pembangunan jalan cepat selesai, terima kasih"})
    assert "id" in made, made
    before = wp.comment(made["id"])
    stored = _service_comment(services, site, made["id"])
    assert before == {"approved": "0", "status": "unapproved", "service_id": stored.id}
    assert stored.content == "Semoga pembangunan jalan cepat selesai, terima kasih"
    assert (stored.author_name, stored.author_ip, stored.post_id) == ("Pembaca", "203.0.113.9", "1")

    run_worker()  # scores, then delivers the signed comment.decided callback to WordPress
    decided = _service_comment(services, site, made["id"])
    assert decided.status != "queued"
    assert wp.comment(made["id"])["status"] == WP_STATUS[decided.status]

    from tests.browser.support import add_user, login, page_token

    add_user(services, "ani")
    login(client, "ani")
    target = "spam" if decided.status != "spam" else "approve"
    answer = client.post("/api/v1/review/actions", json={"action": target, "ids": [decided.id],
                                                           "expected": decided.status},
                         headers={"X-CSRFToken": page_token(client)})
    assert answer.status_code == 200 and answer.get_json()["applied"], answer.get_data(as_text=True)
    run_worker()  # delivers comment.moderated
    assert wp.comment(made["id"])["status"] == ("spam" if target == "spam" else "approved")


def test_wordpress_refuses_forged_callbacks(wordpress: tuple[WordPress, Site], services: Any) -> None:
    """A callback with a wrong signature, a stale timestamp or another site's name is a 401 and changes nothing."""
    wp, site = wordpress
    made = wp.run(NEW_COMMENT, {"author": "Budi", "content": "Komentar yang menunggu keputusan moderator"})
    path = "/index.php?rest_route=/moderation/v1/callback"
    body = json.dumps({"event": "comment.moderated", "comment": {"external_id": str(made["id"]),
                                                                "status": "approved"}}).encode()
    forged = [
        signing.signed_headers(site.slug, secrets.token_hex(32), "POST", path, body),
        signing.signed_headers(site.slug, site.secret, "POST", path, body, now=time.time() - 600),
        signing.signed_headers("another-site", site.secret, "POST", path, body),
        {**signing.signed_headers(site.slug, site.secret, "POST", path, body.replace(b"approved", b"spam"))},
    ]
    for headers in forged:
        answer = requests.post(wp.url + path, data=body, headers={**headers, "Content-Type": "application/json"},
                               timeout=30)
        assert answer.status_code == 401, answer.text
    assert wp.comment(made["id"])["status"] == "unapproved"
    good = signing.signed_headers(site.slug, site.secret, "POST", path, body)
    answer = requests.post(wp.url + path, data=body, headers={**good, "Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 200 and wp.comment(made["id"])["status"] == "approved", answer.text


AKISMET = """require_once ABSPATH . 'wp-admin/includes/plugin.php';
activate_plugin('akismet/akismet.php');
require_once WP_PLUGIN_DIR . '/akismet/class.akismet.php';
"""


def test_stock_akismet_plugin_talks_to_us_through_the_mu_plugin(wordpress: tuple[WordPress, Site]) -> None:
    """With the must-use plugin, the stock Akismet plugin's own HTTP calls reach our API and get our answers."""
    wp, site = wordpress
    out = wp.run(AKISMET + """
        delete_option('wordpress_api_key');
        $bad = Akismet::check_key_status(str_repeat('0', 32));
        $good = Akismet::check_key_status($in['key']);
        update_option('wordpress_api_key', $in['key']);
        $check = function ($author) {
            $r = Akismet::http_post(Akismet::build_query(array('blog' => home_url(), 'user_ip' => '203.0.113.5',
                'user_agent' => 'Mozilla/5.0', 'comment_type' => 'comment', 'comment_author' => $author,
                'comment_content' => 'Halo semua, artikel yang bagus sekali')), 'comment-check');
            return array($r[1], $r[0]['x-akismet-pro-tip'] ?? null, strlen($r[0]['x-akismet-guid'] ?? ''));
        };
        echo json_encode(array('bad' => $bad[1], 'good' => $good[1], 'spam' => $check('akismet-guaranteed-spam'),
            'ham' => $check('Siti')));""", {"key": site.api_key})
    assert out["bad"] == "invalid" and out["good"] == "valid"
    assert out["spam"][0] == "true" and out["spam"][2] > 0
    assert out["ham"][0] in ("false", "true") and out["ham"][2] > 0  # the model's verdict, with a guid either way


@pytest.mark.xfail(strict=True, reason="Akismet 5.0.2's verify_key() answers 'invalid' without asking for any key "
                   "that is not 12 characters long; our api_key is 32 hex characters (moderation/store/sites.py "
                   "create_site), so the stock plugin's key form refuses it (reported to the lead)")
def test_stock_akismet_verify_key_accepts_our_key(wordpress: tuple[WordPress, Site]) -> None:
    """Akismet::verify_key() — what the plugin's settings form calls — says 'valid' for our api_key."""
    wp, site = wordpress
    assert wp.run(AKISMET + "echo json_encode(Akismet::verify_key($in['key']));", {"key": site.api_key}) == "valid"
