"""`moderation serve` from nothing to ready: seconds until /readyz answers 200 on a fresh data dir.

Fresh: an empty data dir and no model, no `db upgrade` run first, so serve migrates the embedded SQLite
database and trains the seed model itself before it starts its children. Baseline, measured in the same
run: serve on a data dir already prepared (migrated, model active). The difference is what preparing
costs. Medians over --runs runs each, alternating fresh and prepared.

    /work/main/.venv/bin/python bench/serve_ready.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seconds_to_ready(data_dir: Path) -> float:
    """Start serve on this data dir, time until /readyz is 200, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(MODERATION_DATA_DIR=str(data_dir), MODERATION_SERVE_WEB_PROCESSES="1")
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 300:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError("not ready after 300 s")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def main() -> None:
    """Alternate fresh and prepared starts; print each and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    fresh, prepared = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            data_dir = Path(tmp) / f"run{i}"
            fresh.append(seconds_to_ready(data_dir))
            prepared.append(seconds_to_ready(data_dir))  # same dir, now migrated with a model
            print(f"run {i + 1}: fresh {fresh[-1]:.2f} s   prepared {prepared[-1]:.2f} s", flush=True)
    print(f"serve to ready, fresh data dir (migrate + train seed model)  median {statistics.median(fresh):.2f} s")
    print(f"serve to ready, prepared data dir (baseline)                 median {statistics.median(prepared):.2f} s")


if __name__ == "__main__":
    main()
