"""Servers the suite starts: each in a process group of its own, stopped as a whole group, and found again at
the end of the run by a mark in their environment, so one left running fails the run.

``terminate()`` ends only the process it was given; ``php -S`` with workers (and anything else that forks)
leaves its children listening, reparented to init, run after run. Stopping the group ends them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MARK = "MODCOM_SUITE_RUN"
"""Environment variable every process of one test run carries (not MODERATION_*: some tests drop those)."""

STOP_GRACE = 10.0
"""Seconds a group gets after SIGTERM before SIGKILL."""


def mark_this_run() -> str:
    """Give this run its mark (children inherit it through the environment); returns it."""
    return os.environ.setdefault(MARK, uuid.uuid4().hex)


def child_env(**extra: str) -> dict[str, str]:
    """A minimal environment for a tool started with an explicit one (PATH and the run's mark)."""
    return {"PATH": "/usr/bin:/usr/sbin:/bin", MARK: os.environ.get(MARK, ""), **extra}


def start_group(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start a server as the leader of a new session (its own process group)."""
    return subprocess.Popen(list(argv), start_new_session=True, **kwargs)  # noqa: S603


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _live_pids() -> list[int]:
    """Every process id in /proc."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for pid in _live_pids():
        fields = _stat(pid)
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(pid)
    return members


def _signal_group(pgid: int, sig: int) -> None:
    """Send a signal to a whole group (gone already is fine)."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def stop_group(proc: subprocess.Popen[Any], grace: float = STOP_GRACE) -> None:
    """SIGTERM the server's whole group, SIGKILL it after ``grace``; return only when no member is left."""
    pgid = proc.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (proc.poll() is None or group_members(pgid)):
        time.sleep(0.05)
    if proc.poll() is None or group_members(pgid):
        _signal_group(pgid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _interpreter_helper(fields: list[str], cmdline: str) -> bool:
    """Python's own multiprocessing resource tracker under this process: it ends when this interpreter does."""
    return int(fields[1]) == os.getpid() and "multiprocessing.resource_tracker" in cmdline


def marked_processes(mark: str) -> list[str]:
    """Live processes (other than this one) carrying this run's mark, as 'pid command line'."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for pid in _live_pids():
        if pid == os.getpid():
            continue
        fields = _stat(pid)
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields and fields[0] != "Z" and needle in environ.split(b"\0") and not _interpreter_helper(fields, cmdline):
            found.append(f"{pid} {cmdline.strip()[:160]}")
    return found


def leftovers(mark: str, wait: float = 10.0) -> list[str]:
    """The run's processes still alive after waiting up to ``wait`` seconds for stragglers to exit."""
    deadline = time.monotonic() + wait
    while (alive := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive
