"""A private, throw-away MariaDB (or MySQL) server for the real-WordPress tests.

The tests must not depend on a server that happens to run on the machine, nor
touch its data: this one gets its own data directory, unix socket and free
loopback port, runs as the current user, and is stopped (never orphaned) when
the context ends.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.processes import start_group, stop_group

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"])


@dataclass(frozen=True)
class MariaDB:
    """Where a server answers: TCP host and port (root, empty password), and its socket when it is ours."""

    host: str
    port: int
    socket: str | None = None

    @property
    def private(self) -> bool:
        """Whether the tests started this server themselves."""
        return self.socket is not None


def binaries() -> tuple[str, str] | None:
    """(server, installer) of MariaDB's or MySQL's names, or None when no server is installed."""
    server = shutil.which("mariadbd", path=SEARCH_PATH) or shutil.which("mysqld", path=SEARCH_PATH)
    installer = shutil.which("mariadb-install-db", path=SEARCH_PATH) or shutil.which("mysql_install_db",
                                                                                     path=SEARCH_PATH)
    return (server, installer) if server and installer else None


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _short_dir(workdir: Path) -> Path:
    """A directory for the socket: unix socket paths must stay under ~100 bytes."""
    if len(str(workdir / "mysqld.sock")) < 100:
        return workdir
    return Path(tempfile.mkdtemp(prefix="mdb", dir="/tmp"))


def _server_args(server: str, data: Path, sock: Path, port: int, user: str, log: Path) -> list[str]:
    """mariadbd's command line: only our files, loopback TCP, small and fast (the data is thrown away)."""
    return [server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
            "--bind-address=127.0.0.1", f"--user={user}", f"--pid-file={data / 'mysqld.pid'}",
            f"--log-error={log}", "--skip-log-bin", "--skip-name-resolve", "--skip-performance-schema",
            "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0",
            "--skip-innodb-doublewrite", "--max-connections=40", "--character-set-server=utf8mb4"]


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, port: int, timeout: float = 60) -> None:
    """Until the server says it is ready and accepts TCP connections; fails with its log if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {proc.returncode}: {_tail(log)}")
        if "ready for connections" in _tail(log, 4000) and port_open(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"mariadbd was not ready within {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path, size: int = 2000) -> str:
    """The end of the server's error log ('' before it exists)."""
    return log.read_text(errors="replace")[-size:] if log.exists() else ""


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM the server if the test process dies, so a killed run leaves none."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: teardown still stops it


@contextmanager
def private_server(workdir: Path) -> Iterator[MariaDB]:
    """Install a fresh data directory, start mariadbd on it as the current user, yield it, stop it."""
    found = binaries()
    if found is None:
        raise RuntimeError("no mariadbd/mysqld with mariadb-install-db/mysql_install_db on PATH or in /usr/sbin")
    server, installer = found
    # CI runs as root: mariadbd refuses root unless told --user=root, and as anyone else --user is that user.
    user = pwd.getpwuid(os.getuid()).pw_name
    data, log = workdir / "data", workdir / "mysqld.log"
    install = subprocess.run([installer, "--no-defaults", f"--datadir={data}", f"--user={user}",
                              "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
                             capture_output=True, text=True, timeout=120)
    if install.returncode != 0:
        raise RuntimeError(f"{installer} failed: {install.stdout[-1500:]}{install.stderr[-1500:]}")
    port, sock = _free_port(), _short_dir(workdir) / "mysqld.sock"
    proc = start_group(_server_args(server, data, sock, port, user, log), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        _wait_ready(proc, log, port)
        yield MariaDB("127.0.0.1", port, str(sock))
    finally:
        stop_group(proc, grace=30)  # SIGTERM is a clean shutdown; SIGKILL only if it takes too long
        if sock.parent != workdir:
            shutil.rmtree(sock.parent, ignore_errors=True)
