"""Shared pieces of the benchmarks: temp data dirs, the model, `moderation serve`, the baseline,
wrk with pre-signed requests, a raw asyncio HTTP client, a callback receiver and clean shutdown.

Everything a benchmark starts is registered with :func:`on_exit` and stopped in reverse order on
normal exit, on an exception, on Ctrl-C and on SIGTERM. After stopping, any process still carrying
one of our temporary data directories in its environment (``MODERATION_DATA_DIR=...``) is killed by
pid, so nothing we started survives us.
"""

from __future__ import annotations

import asyncio
import atexit
import csv
import glob
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
MODERATION = [PYTHON, "-m", "moderation.cli"]
SHARED_DATA = Path(os.environ.get("BENCH_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
if not SHARED_DATA.exists():
    SHARED_DATA = Path("/work/shared/data")
WRK_LUA = BENCH_DIR / "wrk_presigned.lua"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from moderation.delivery import signing  # noqa: E402

# ---------------------------------------------------------------------------------------------
# clean shutdown
# ---------------------------------------------------------------------------------------------

_exit_stack: list[tuple[str, Callable[[], None]]] = []
_exit_lock = threading.Lock()
_our_dirs: list[str] = []


def on_exit(name: str, fn: Callable[[], None]) -> Callable[[], None]:
    """Register a stop action; returns a callable that runs it now (once) and unregisters it."""
    entry = (name, fn)
    with _exit_lock:
        _exit_stack.append(entry)

    def run_now() -> None:
        with _exit_lock:
            if entry not in _exit_stack:
                return
            _exit_stack.remove(entry)
        fn()

    return run_now


def _run_exit_stack() -> None:
    while True:
        with _exit_lock:
            if not _exit_stack:
                break
            _name, fn = _exit_stack.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest
            print(f"[bench] stopping {_name} failed: {exc!r}", file=sys.stderr)
    kill_orphans()


def _on_signal(signum: int, _frame: object) -> None:
    # Ignore further signals while we stop things, then leave through the normal exception path.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def install_cleanup() -> None:
    """Stop everything we started at exit, on Ctrl-C and on SIGTERM."""
    atexit.register(_run_exit_stack)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def _pdeathsig() -> None:
    """In a child: get SIGTERM when the bench process dies (Linux), and live in our own group."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass
    os.setpgrp()


def kill_orphans() -> list[int]:
    """Kill (by pid) every process whose environment names one of our temp data dirs; returns their pids."""
    if not _our_dirs:
        return []
    needles = [f"MODERATION_DATA_DIR={d}\0".encode() for d in _our_dirs]
    needles += [f"BENCH_OWNER={d}\0".encode() for d in _our_dirs]
    killed = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if any(n in env for n in needles):
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
            except OSError:
                pass
    if killed:
        print(f"[bench] killed leftover processes {killed}", file=sys.stderr)
    return killed


def stop_process(proc: subprocess.Popen[Any], grace: float = 15.0, sig: int = signal.SIGTERM) -> None:
    """Signal a child, wait, then SIGKILL it (and its process group) if it lingers."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()


def make_temp_dir(tag: str) -> Path:
    """A fresh temporary data dir (removed at exit unless BENCH_KEEP=1)."""
    base = os.environ.get("BENCH_TMPDIR") or None
    path = Path(tempfile.mkdtemp(prefix=f"modbench-{tag}-", dir=base)).resolve()
    _our_dirs.append(str(path))
    if not os.environ.get("BENCH_KEEP"):
        on_exit(f"rm {path}", lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def header(title: str) -> None:
    print("\n" + "=" * 100 + f"\n{title}\n" + "=" * 100, flush=True)


def say(msg: str) -> None:
    print(msg, flush=True)


def machine_line() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M:%S')}, "
            f"load average {load} (anything else running skews every figure)")


# ---------------------------------------------------------------------------------------------
# model and texts
# ---------------------------------------------------------------------------------------------


def ensure_bench_model(tag: str) -> tuple[Path, float | None]:
    """The model trained on shared/data: reuse BENCH_MODEL_DIR (run_all trains once), else train one now.

    Returns (model_dir, training seconds or None when reused).
    """
    shared = os.environ.get("BENCH_MODEL_DIR")
    if shared and (Path(shared) / "ACTIVE").exists():
        say(f"model: reusing the model trained by run_all in {shared} "
            f"(training took {os.environ.get('BENCH_TRAIN_SECONDS', '?')} s)")
        return Path(shared), None
    model_dir = make_temp_dir(f"{tag}-model") / "models"
    return model_dir, train_model(model_dir)


def train_model(model_dir: Path) -> float:
    """Train (what `make run` does, on shared/data) into model_dir; returns seconds."""
    say(f"model: training on {SHARED_DATA} into {model_dir} ...")
    started = time.perf_counter()
    code = ("import sys; from training.cli import ensure_model; "
            "print(ensure_model(sys.argv[1], [sys.argv[2]]))")
    env = dict(os.environ, BENCH_OWNER=str(model_dir.parent))
    out = subprocess.run([PYTHON, "-c", code, str(model_dir), str(SHARED_DATA)], cwd=ROOT, env=env,
                         capture_output=True, text=True, preexec_fn=_pdeathsig)
    if out.returncode != 0:
        raise RuntimeError(f"training failed:\n{out.stderr[-3000:]}")
    seconds = time.perf_counter() - started
    say(f"model: trained version {out.stdout.strip().splitlines()[-1]} in {seconds:.1f} s")
    return seconds


_TEXTS: list[str] | None = None


def sample_texts(n: int, seed: int = 7) -> list[str]:
    """n realistic comment texts sampled (with replacement) from shared/data/*/data.csv (read-only)."""
    global _TEXTS
    if _TEXTS is None:
        pool: list[str] = []
        csv.field_size_limit(1 << 24)
        for path in sorted(glob.glob(str(SHARED_DATA / "*" / "data.csv"))):
            with open(path, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    text = (row.get("text") or "").strip()
                    if text and len(text) <= 5000:
                        pool.append(text)
        if not pool:
            raise RuntimeError(f"no texts found under {SHARED_DATA}")
        _TEXTS = pool
    rng = random.Random(seed)
    return [rng.choice(_TEXTS) for _ in range(n)]


def comment_body(ext_id: str, text: str, i: int) -> dict[str, Any]:
    """A realistic intake item."""
    return {
        "id": ext_id,
        "content": text,
        "author": {"name": f"reader{i % 997}", "email": f"reader{i % 997}@example.id", "url": "",
                   "ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", "user_agent": "Mozilla/5.0 (bench)"},
        "post": {"id": str(1000 + i % 50), "url": f"https://news.example.id/2026/11/post-{i % 50}",
                 "title": "Berita hari ini"},
        "lang": "id",
    }


# ---------------------------------------------------------------------------------------------
# raw pre-signed HTTP requests
# ---------------------------------------------------------------------------------------------


def raw_request(host: str, port: int, path: str, body: bytes, site: str | None, secret: str | None,
                now: float | None = None) -> bytes:
    """A complete HTTP/1.1 POST (keep-alive), signed the contract's way when site/secret are given."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}"]
    if site and secret:
        for k, v in signing.signed_headers(site, secret, "POST", path, body, now=now).items():
            lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write_wrk_file(path: Path, requests: Sequence[bytes]) -> None:
    """Length-prefixed raw requests, read by wrk_presigned.lua."""
    with open(path, "wb") as fh:
        for r in requests:
            fh.write(f"{len(r)}\n".encode())
            fh.write(r)


def presign_comments(host: str, port: int, site: str, secret: str, prefix: str, n: int,
                     seed: int = 7) -> tuple[list[bytes], list[str]]:
    """n single-comment POSTs with unique ids PREFIX-i, signed now; returns (raw requests, external ids)."""
    texts = sample_texts(n, seed)
    now = time.time()
    reqs, ids = [], []
    for i, text in enumerate(texts):
        ext = f"{prefix}-{i}"
        body = json.dumps(comment_body(ext, text, i), ensure_ascii=False).encode()
        reqs.append(raw_request(host, port, "/api/v1/comments", body, site, secret, now))
        ids.append(ext)
    return reqs, ids


def presign_batches(host: str, port: int, site: str, secret: str, prefix: str, n: int, per: int = 500,
                    seed: int = 7) -> tuple[list[bytes], list[str]]:
    texts = sample_texts(n, seed)
    now = time.time()
    reqs, ids = [], []
    for start in range(0, n, per):
        items = []
        for i in range(start, min(n, start + per)):
            ext = f"{prefix}-{i}"
            items.append(comment_body(ext, texts[i], i))
            ids.append(ext)
        body = json.dumps({"comments": items}, ensure_ascii=False).encode()
        reqs.append(raw_request(host, port, "/api/v1/comments/batch", body, site, secret, now))
    return reqs, ids


# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "wrk is not installed. It is the load generator of these benchmarks (a Python client cannot\n"
            "saturate the server on a 2-core machine). Install it from Debian:\n\n"
            "    apt-get update && apt-get install -y wrk\n")
    return found


@dataclass
class WrkResult:
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    codes: dict[str, int]
    real_responses: int
    exhausted: int
    errors: dict[str, int]
    wall_start: float = 0.0
    wall_end: float = 0.0

    @property
    def ok_202(self) -> int:
        return int(self.codes.get("202", 0))


def run_wrk(url: str, requests: Sequence[bytes], workdir: Path, *, duration: float, connections: int,
            threads: int = 2, stop_when_done: bool = False, env_owner: str = "") -> WrkResult:
    """Run wrk with the pre-signed requests (each sent once); duration caps the run."""
    req_file = workdir / f"wrk-{time.monotonic_ns()}.req"
    write_wrk_file(req_file, requests)
    argv = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, int(round(duration)))}s", "--timeout", "10s",
            "-s", str(WRK_LUA), url, "--", str(req_file), str(threads), "1" if stop_when_done else "0"]
    env = dict(os.environ, BENCH_OWNER=env_owner) if env_owner else None
    started = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_pdeathsig)
    stop = on_exit("wrk", lambda: stop_process(proc, grace=2))
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    ended = 0.0
    done_threads = 0
    for raw in proc.stdout:
        lines.append(raw)
        if raw.startswith("THREADDONE"):
            done_threads += 1
            if done_threads >= threads and stop_when_done:
                ended = time.time()
                proc.send_signal(signal.SIGINT)  # wrk then stops at once and prints its summary
    err = proc.stderr.read()
    proc.wait()
    ended = ended or time.time()
    out = "".join(lines)
    stop()
    req_file.unlink(missing_ok=True)
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (rc={proc.returncode}):\n{out}\n{err}")
    data = json.loads(line[len("WRKJSON "):])
    return WrkResult(seconds=data["duration_us"] / 1e6, requests=data["requests"],
                     rps=data["requests"] / (data["duration_us"] / 1e6), p50_ms=data["p50_us"] / 1000,
                     p99_ms=data["p99_us"] / 1000, codes={str(k): v for k, v in data["codes"].items()},
                     real_responses=data["real"], exhausted=data["exhausted"], errors=data["errors"],
                     wall_start=started, wall_end=ended)


# ---------------------------------------------------------------------------------------------
# raw asyncio HTTP client (batches, open-loop pacing)
# ---------------------------------------------------------------------------------------------


class RawConn:
    """One keep-alive connection sending pre-built raw requests."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    IDLE_SECONDS = 3.0
    """Reconnect rather than reuse a connection idle this long (gunicorn's keepalive is 5 s)."""

    last_used: float = 0.0

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is not None and time.monotonic() - self.last_used > self.IDLE_SECONDS:
            self.close()
        fresh = self.writer is None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 24)
        assert self.reader is not None and self.writer is not None
        try:
            self.writer.write(raw)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            partial = getattr(exc, "partial", b"")
            self.close()
            if fresh or partial:
                raise
            return await self.request(raw)  # the server had closed the idle connection: nothing was processed
        self.last_used = time.monotonic()
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        close = False
        for h in lines[1:]:
            k, _, v = h.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v.strip())
            elif k == "connection" and v.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def send_all(host: str, port: int, requests: Sequence[bytes],
                   concurrency: int) -> list[tuple[int, float, bytes]]:
    """Send every request over `concurrency` keep-alive connections; returns (status, seconds, body) each."""
    results: list[tuple[int, float, bytes]] = [(0, 0.0, b"")] * len(requests)
    queue = list(range(len(requests)))[::-1]

    async def worker() -> None:
        conn = RawConn(host, port)
        while queue:
            i = queue.pop()
            t0 = time.perf_counter()
            status, body = await conn.request(requests[i])
            results[i] = (status, time.perf_counter() - t0, body)
        conn.close()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(requests)))))
    return results


async def paced(host: str, port: int, reqs: Sequence[bytes], rate: float,
                ok: int = 202) -> tuple[list[float], list[float], float]:
    """Send reqs open-loop at `rate` (request i at t0 + i/rate, whatever came back); returns (send epoch per
    request, answer seconds per request (NaN unless the status was `ok`), max lag behind the schedule)."""
    sent = [0.0] * len(reqs)
    answer = [float("nan")] * len(reqs)
    idle: list[RawConn] = []
    tasks = []
    max_lag = 0.0

    async def do(conn: RawConn, raw: bytes, i: int) -> None:
        t0 = time.perf_counter()
        status, _ = await conn.request(raw)
        answer[i] = time.perf_counter() - t0 if status == ok else float("nan")
        idle.append(conn)

    start = time.perf_counter() + 0.05
    for i, raw in enumerate(reqs):
        target = start + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - target)
        conn = idle.pop() if idle else RawConn(host, port)
        sent[i] = time.time()
        tasks.append(asyncio.create_task(do(conn, raw, i)))
    await asyncio.gather(*tasks)
    for c in idle:
        c.close()
    return sent, answer, max_lag


# ---------------------------------------------------------------------------------------------
# processes: moderation serve, baseline, embedded redis
# ---------------------------------------------------------------------------------------------


def base_env(data_dir: Path, model_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("MODERATION_"):
            del env[k]
    env.update({
        "MODERATION_DATA_DIR": str(data_dir),
        "MODERATION_MODEL_DIR": str(model_dir),
        "MODERATION_TRAINING_DATA": str(SHARED_DATA),
        "MODERATION_INTAKE_RATE_LIMIT_PER_MINUTE": "0",
        # one load generator posts for thousands of readers; the per-commenter-IP limit would refuse it
        "MODERATION_INTAKE_IP_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    # experiments: BENCH_SET_<NAME>=value is passed to the service as MODERATION_<NAME>=value
    env.update({"MODERATION_" + k[len("BENCH_SET_"):]: v for k, v in os.environ.items() if k.startswith("BENCH_SET_")})
    return env


def run_cli(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(MODERATION + args, cwd=ROOT, env=env, capture_output=True, text=True,
                         preexec_fn=_pdeathsig)
    if out.returncode != 0:
        raise RuntimeError(f"moderation {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[Any] | None = None,
              log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode} while waiting for {url}\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - local
                if r.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001
            last = repr(exc)
        time.sleep(0.1)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{url} not ready after {timeout}s ({last})\n{tail}")


@dataclass
class Site:
    slug: str
    secret: str
    id: int


@dataclass
class Service:
    """`moderation db upgrade` + `sites add` + `moderation serve` in a temp data dir, like `make run`."""

    tag: str
    model_dir: Path
    workers: int = 2
    callback_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path = Path()
    site: Site | None = None
    proc: subprocess.Popen[Any] | None = None
    log: Path = Path()
    _stop: Callable[[], None] | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "moderation.db"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Service:
        self.data_dir = make_temp_dir(self.tag)
        self.port = free_port()
        extra = dict(self.extra_env)
        # `serve --workers 0` means "the default"; 0 workers is only reachable through the setting.
        extra["MODERATION_SERVE_WORKERS"] = str(self.workers)
        env = base_env(self.data_dir, self.model_dir, extra)
        run_cli(["db", "upgrade"], env)
        add = ["sites", "add", "bench"] + (["--callback-url", self.callback_url] if self.callback_url else [])
        info = json.loads(run_cli(add, env).strip().splitlines()[-1])
        with sqlite3.connect(self.db_path) as con:
            site_id = con.execute("SELECT id FROM sites WHERE slug='bench'").fetchone()[0]
        self.site = Site(info["site"], info["secret"], int(site_id))
        self.log = self.data_dir / "serve.log"
        argv = MODERATION + ["serve", "--host", self.host, "--port", str(self.port)]
        if self.workers:
            argv += ["--workers", str(self.workers)]
        logf = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                     preexec_fn=_pdeathsig)
        logf.close()
        self._stop = on_exit(f"serve:{self.tag}", self._terminate)
        wait_http(self.url + "/readyz", 60, self.proc, self.log)
        return self

    def _terminate(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=25)
        kill_orphans_of(self.data_dir)

    def stop(self) -> None:
        if self._stop:
            self._stop()
            self._stop = None

    def child_pids(self, name_part: str) -> list[int]:
        """Pids of serve's children whose command line contains name_part (e.g. 'worker', 'gunicorn')."""
        return [pid for pid, cmd in our_processes(self.data_dir) if name_part in cmd]

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30)  # read-only use; WAL readers never block writers


def our_processes(data_dir: Path) -> list[tuple[int, str]]:
    needle = f"MODERATION_DATA_DIR={data_dir}\0".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read():
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((int(entry), cmd))
    return found


def kill_orphans_of(data_dir: Path) -> None:
    for pid, _cmd in our_processes(data_dir):
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def start_embedded_redis(data_dir: Path, env: dict[str, str]) -> tuple[str, Callable[[], None]]:
    """The embedded redis-server exactly as `moderation serve` starts it; returns (url, stop)."""
    from moderation.redis_conn import redis_url
    from moderation.serve import redis_server_argv
    from moderation.settings import load_settings

    settings = load_settings(environ=env)
    proc = subprocess.Popen(redis_server_argv(settings), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=_pdeathsig)
    stop = on_exit("redis", lambda: stop_process(proc, grace=5))
    url = redis_url(settings)
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except Exception:  # noqa: BLE001
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()
    return url, stop


@dataclass
class Baseline:
    """bench/baseline_app.py under gunicorn with the service's options, with its own embedded Redis."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path = Path()
    proc: subprocess.Popen[Any] | None = None
    _stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Baseline:
        self.data_dir = make_temp_dir("baseline")
        self.port = free_port()
        env = base_env(self.data_dir, self.data_dir / "models")
        _url, stop_redis = start_embedded_redis(self.data_dir, env)
        self._stops.append(stop_redis)
        log = self.data_dir / "baseline.log"
        logf = open(log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen([PYTHON, str(BENCH_DIR / "baseline_app.py"), "--host", self.host, "--port",
                                      str(self.port)], cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                     preexec_fn=_pdeathsig)
        logf.close()
        proc = self.proc
        self._stops.append(on_exit("baseline", lambda: stop_process(proc, grace=15)))
        wait_http(self.url + "/healthz", 30, self.proc, log)
        return self

    def stop(self) -> None:
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()
        kill_orphans_of(self.data_dir)


# ---------------------------------------------------------------------------------------------
# callback receiver (separate process: asyncio, keep-alive, HMAC-checked)
# ---------------------------------------------------------------------------------------------

RECEIVER_CODE = r'''
import asyncio, hashlib, hmac, json, sys, time
secrets = {}
records = []   # (arrival_epoch, external_id, comment_id, status, sig_ok)
bad = 0

def check(headers, path, body):
    site = headers.get("x-moderation-site", "")
    ts = headers.get("x-moderation-timestamp", "")
    sig = headers.get("x-moderation-signature", "")
    secret = secrets.get(site)
    if not secret:
        return False
    mac = hmac.new(secret.encode(), f"{ts}.POST.{path}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, sig)

async def handle(reader, writer):
    global bad
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            now = time.time()
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for h in lines[1:]:
                if h:
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            body = await reader.readexactly(n) if n else b""
            if path == "/_config":
                cfg = json.loads(body)
                secrets[cfg["site"]] = cfg["secret"]
                out = b"{}"
            elif path == "/_stats":
                out = json.dumps({"records": len(records), "bad": bad}).encode()
            elif path == "/_dump":
                out = json.dumps({"records": records, "bad": bad}).encode()
            elif path == "/_reset":
                records.clear(); bad = 0
                out = b"{}"
            else:
                ok = check(headers, path, body)
                try:
                    c = json.loads(body)["comment"]
                    records.append((now, c.get("external_id"), c.get("id"), c.get("status"), ok))
                except Exception:
                    bad += 1
                if not ok:
                    bad += 1
                out = b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(out)).encode() + b"\r\n\r\n" + out)
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), limit=1 << 24, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
'''


class Receiver:
    """A local callback receiver; counts each comment's callbacks and their arrival times."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self._stop: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self.proc = subprocess.Popen([PYTHON, "-c", RECEIVER_CODE, str(self.port)], stdout=subprocess.PIPE,
                                     text=True, preexec_fn=_pdeathsig)
        proc = self.proc
        self._stop = on_exit("receiver", lambda: stop_process(proc, grace=3))
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("callback receiver did not start")
        return self

    def _call(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(payload or {}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - local
            return json.loads(r.read() or b"{}")  # type: ignore[no-any-return]

    def configure(self, site: str, secret: str) -> None:
        self._call("/_config", {"site": site, "secret": secret})

    def stats(self) -> dict[str, Any]:
        return self._call("/_stats")

    def dump(self) -> dict[str, Any]:
        return self._call("/_dump")

    def reset(self) -> None:
        self._call("/_reset")

    def cpu_seconds(self) -> float:
        """CPU time the receiver has used so far (it shares the machine with the service)."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._stop:
            self._stop()
            self._stop = None


# ---------------------------------------------------------------------------------------------
# database checks
# ---------------------------------------------------------------------------------------------


def parse_db_time(value: str | None) -> float | None:
    """SQLite's naive UTC datetime text → epoch seconds."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def queued_count(con: sqlite3.Connection) -> int:
    return int(con.execute("SELECT count(*) FROM comments WHERE status='queued'").fetchone()[0])


def run_rows(con: sqlite3.Connection, site_id: int, prefix: str) -> list[tuple[str, str, str, str, str | None]]:
    """(id, external_id, status, received_at, decided_at) of this run's comments."""
    return con.execute(
        "SELECT id, external_id, status, received_at, decided_at FROM comments "
        "WHERE site_id=? AND external_id >= ? AND external_id < ?", (site_id, prefix + "-", prefix + "-\U0010ffff")
    ).fetchall()


def event_counts(con: sqlite3.Connection, site_id: int, prefix: str) -> dict[str, int]:
    """external_id → number of decision_events of that comment (0 included)."""
    rows = con.execute(
        "SELECT c.external_id, count(e.id) FROM comments c LEFT JOIN decision_events e ON e.comment_id = c.id "
        "WHERE c.site_id=? AND c.external_id >= ? AND c.external_id < ? GROUP BY c.id",
        (site_id, prefix + "-", prefix + "-\U0010ffff"),
    ).fetchall()
    return {ext: int(n) for ext, n in rows}


def hmac_ok(secret: str, ts: str, path: str, body: bytes, sig: str) -> bool:
    mac = hmac.new(secret.encode(), f"{ts}.POST.{path}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, sig)


def code_version() -> str:
    """The commit measured (and whether the work tree had local changes), for the record."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return f"{head}{' + local changes' if dirty else ''}"
    except OSError:
        return "unknown"


def preamble(title: str) -> None:
    header(title)
    say(machine_line())
    say(f"code: {code_version()}; texts sampled from {SHARED_DATA}/*/data.csv")


def wait_drained(svc: Service, timeout: float = 120.0) -> float:
    """Wait until no comment is queued in the service's DB; returns seconds waited."""
    started = time.monotonic()
    con = svc.db()
    try:
        while queued_count(con) and time.monotonic() - started < timeout:
            time.sleep(0.2)
    finally:
        con.close()
    return time.monotonic() - started
