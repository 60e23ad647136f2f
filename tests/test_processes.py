"""Servers started by the suite end with their whole process group, and the run finds any it left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.processes import MARK, group_members, leftovers, marked_processes, start_group, stop_group

FORKING = ["sh", "-c", "sleep 120 & sleep 120 & wait"]
"""A server stand-in that forks workers, as php -S with PHP_CLI_SERVER_WORKERS does."""


def test_terminate_alone_leaves_forked_workers_and_stopping_the_group_does_not() -> None:
    """terminate() ends the leader and leaves its workers running (the leak); stop_group ends every member."""
    leaky = start_group(FORKING)
    time.sleep(0.3)
    workers = set(group_members(leaky.pid)) - {leaky.pid}
    assert len(workers) == 2
    leaky.terminate()
    leaky.wait(10)
    time.sleep(0.2)
    assert set(group_members(leaky.pid)) == workers  # still alive, now children of init: what leaked before
    os.killpg(leaky.pid, signal.SIGKILL)  # clean up the demonstration

    server = start_group(FORKING)
    time.sleep(0.3)
    assert len(group_members(server.pid)) == 3
    stop_group(server)
    assert group_members(server.pid) == [] and server.returncode is not None


def test_the_run_mark_finds_a_process_left_behind() -> None:
    """A process started with the run's mark is reported until it ends (what the session-end check relies on)."""
    mark = os.environ[MARK]
    before = set(leftovers(mark, wait=0))
    straggler = subprocess.Popen(["sleep", "120"])
    try:
        assert any(line.startswith(f"{straggler.pid} ") for line in marked_processes(mark))
    finally:
        straggler.kill()
        straggler.wait()
    assert set(leftovers(mark, wait=5)) <= before
