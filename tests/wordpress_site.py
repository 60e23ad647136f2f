"""A throw-away install of Debian's WordPress for the plugin tests: its own database, wp-content and php -S server.

Our plugin, the stock Akismet plugin and our must-use plugin are symlinked into
the install's wp-content, so the tests run the repository's PHP as it is.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.mariadb_server import MariaDB
from tests.processes import child_env, start_group, stop_group
from tests.support import Site

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "integrations" / "wordpress" / "moderation-comments"
MU_PLUGIN = REPO / "integrations" / "wordpress" / "mu-plugins" / "moderation-akismet-bridge.php"
WORDPRESS = Path("/usr/share/wordpress")
AKISMET = WORDPRESS / "wp-content" / "plugins" / "akismet"
PHP = shutil.which("php")

BOOTSTRAP = """<?php
define('DB_NAME', {db}); define('DB_USER', 'root'); define('DB_PASSWORD', ''); define('DB_HOST', {db_host});
define('DB_CHARSET', 'utf8mb4'); define('DB_COLLATE', '');
define('WP_HOME', {home}); define('WP_SITEURL', {home});
define('WP_CONTENT_DIR', {content}); define('WP_CONTENT_URL', {home} . '/wp-content');
define('DISABLE_WP_CRON', true); define('AUTOMATIC_UPDATER_DISABLED', true); define('WP_DEBUG', false);
define('MODCOM_AKISMET_URL', {service});
defined('MODCOM_AKISMET_KEY') || define('MODCOM_AKISMET_KEY', {api_key});  // a test may define another first
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


class WordPress:
    """A throw-away WordPress install: its own database, wp-content with our plugins, served by php -S."""

    def __init__(self, root: Path, db: MariaDB):
        self.root, self.db, self.port = root, db, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_name = f"wp_test_{secrets.token_hex(4)}"
        self.callback_url = f"{self.url}/index.php?rest_route=/moderation/v1/callback"
        self.content = root / "wp-content"
        (self.content / "plugins").mkdir(parents=True)
        (self.content / "mu-plugins").mkdir()
        (self.content / "plugins" / "moderation-comments").symlink_to(PLUGIN)
        (self.content / "plugins" / "akismet").symlink_to(AKISMET)
        (self.content / "mu-plugins" / MU_PLUGIN.name).symlink_to(MU_PLUGIN)
        self.server: subprocess.Popen[bytes] | None = None

    def _sql(self, statement: str, check: bool = True) -> None:
        """Run one statement as root on the database server (through PHP's mysqli, which WordPress uses too)."""
        code = (f"$m = new mysqli({json.dumps(self.db.host)}, 'root', '', '', {self.db.port}); "
                f"$m->query({json.dumps(statement)}) or exit(1);")
        done = subprocess.run([PHP or "php", "-r", code], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 or not check, f"{statement} failed: {done.stdout}{done.stderr}"

    def run(self, code: str, stdin: Any = None, prelude: str = "") -> Any:
        """Run PHP inside this WordPress (CLI, loaded like a request); returns the JSON it echoes last."""
        script = self.root / f"run-{secrets.token_hex(4)}.php"
        script.write_text(f"<?php\n{prelude}\nrequire __DIR__ . '/bootstrap.php';\n"
                          f"$in = json_decode(getenv('STDIN_DATA'), true);\n{code}\n")
        done = subprocess.run([PHP or "php", str(script)], capture_output=True, text=True, timeout=120,
                              env=child_env(STDIN_DATA=json.dumps(stdin)))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def install(self, site: Site, service_url: str) -> None:
        """Create the database, install WordPress, activate our plugin and configure it (and the bridge) for a site."""
        q = json.dumps
        (self.root / "bootstrap.php").write_text(BOOTSTRAP.format(
            db=q(self.db_name), db_host=q(f"{self.db.host}:{self.db.port}"), home=q(self.url),
            content=q(str(self.content)), service=q(service_url), api_key=q(site.api_key),
            salt=q(secrets.token_hex(16)), host=q(f"127.0.0.1:{self.port}")))
        (self.root / "router.php").write_text(ROUTER)
        self._sql(f"CREATE DATABASE `{self.db_name}` CHARACTER SET utf8mb4")
        script = self.root / "install.php"
        script.write_text("<?php\ndefine('WP_INSTALLING', true);\nrequire __DIR__ . '/bootstrap.php';\n"
                          "require_once ABSPATH . 'wp-admin/includes/upgrade.php';\n"
                          "wp_install('Berita Test', 'admin', 'admin@example.id', true, '', 'admin-password');\n"
                          "echo 'ok';\n")
        done = subprocess.run([PHP or "php", str(script)], capture_output=True, text=True, timeout=180,
                              env=child_env())
        assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout[-2000:] + done.stderr[-2000:]
        self.run("""require_once ABSPATH . 'wp-admin/includes/plugin.php';
            $r = activate_plugin('moderation-comments/moderation-comments.php');
            update_option('modcom_url', $in['url']); update_option('modcom_site', $in['site']);
            update_option('modcom_secret', $in['secret']); update_option('comment_moderation', 0);
            update_option('comment_previously_approved', 0);
            echo json_encode(array('error' => is_wp_error($r) ? $r->get_error_message() : null));""",
                 {"url": service_url, "site": site.slug, "secret": site.secret})

    def use_akismet(self) -> None:
        """Switch this site to the other route: the stock Akismet plugin (via our must-use plugin), ours off."""
        out = self.run("""require_once ABSPATH . 'wp-admin/includes/plugin.php';
            deactivate_plugins('moderation-comments/moderation-comments.php');
            $r = activate_plugin('akismet/akismet.php');
            echo json_encode(array('error' => is_wp_error($r) ? $r->get_error_message() : null,
                'active' => get_option('active_plugins')));""")
        assert out == {"error": None, "active": ["akismet/akismet.php"]}, out

    def start(self) -> None:
        """Serve it with PHP's built-in server (a few workers, so WordPress can call us while we call it)."""
        # Its own process group: php -S forks workers that terminate() alone would leave listening.
        self.server = start_group([PHP or "php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.root),
                                   str(self.root / "router.php")], cwd=self.root, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=child_env(PHP_CLI_SERVER_WORKERS="4"))
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
            stop_group(self.server)
        self._sql(f"DROP DATABASE IF EXISTS `{self.db_name}`", check=False)

    def comment(self, comment_id: int) -> dict[str, Any]:
        """A comment's WordPress status and our meta."""
        return self.run("""$c = get_comment((int) $in);
            echo json_encode(array('approved' => $c->comment_approved, 'status' => wp_get_comment_status($c),
                'service_id' => get_comment_meta($c->comment_ID, '_modcom_id', true)));""", comment_id)  # type: ignore[no-any-return]
