"""Run every benchmark (what `make bench` calls): train the model on shared/data ONCE, then intake,
end_to_end, latency and worker_modes, each in its own process with its own temporary data dir and port;
finally repeat every script's result section in one summary.

    /work/main/.venv/bin/python bench/run_all.py [--quick] [--only intake,end_to_end,latency,worker_modes]

--quick keeps the whole run within about 10 minutes on a 2-core machine: end_to_end only with the
default `serve --workers 2` (instead of 1, 2 and 3), intake runs of 8 s, latency runs of 20 s.
Every script still takes medians of 3 runs. Extra arguments after `--` go to every script.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import _harness as h

SCRIPTS = ["intake", "end_to_end", "latency", "worker_modes"]
QUICK = {"intake": ["--duration", "8"], "end_to_end": ["--workers", "2"], "latency": ["--duration", "20"]}


def run_script(name: str, extra: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.Popen([h.PYTHON, str(h.BENCH_DIR / f"{name}.py"), *extra], cwd=h.ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=h._pdeathsig)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
        proc.wait()
    except BaseException:
        # Ctrl-C: the script runs in its own process group; let it stop what it started, then leave
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    return proc.returncode, "".join(lines), time.monotonic() - started


def result_section(output: str) -> str:
    """The part of a script's output from its RESULT header on."""
    marker = "=" * 100
    idx = output.rfind(" RESULT")
    if idx < 0:
        return output[-2000:]
    start = output.rfind(marker, 0, idx)
    return output[start:] if start >= 0 else output[idx:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(SCRIPTS))
    parser.add_argument("rest", nargs="*", help="arguments after -- for every script")
    args = parser.parse_args()
    h.install_cleanup()
    h.wrk_path()
    started = time.monotonic()
    h.preamble("BENCHMARKS (bench/run_all.py)" + (" --quick" if args.quick else ""))
    model_dir = h.make_temp_dir("model") / "models"
    train_s = h.train_model(model_dir)
    env = dict(os.environ, BENCH_MODEL_DIR=str(model_dir), BENCH_TRAIN_SECONDS=f"{train_s:.1f}",
               BENCH_OWNER=str(model_dir.parent))
    summaries = []
    for name in [s for s in args.only.split(",") if s]:
        extra = (QUICK.get(name, []) if args.quick else []) + list(args.rest)
        code, out, secs = run_script(name, extra, env)
        summaries.append((name, code, secs, result_section(out)))
    h.header("SUMMARY OF ALL BENCHMARKS")
    h.say(f"model trained on {h.SHARED_DATA} once for all scripts: {train_s:.1f} s")
    for name, code, secs, section in summaries:
        h.say(f"\n##### bench/{name}.py  (exit {code}, {secs:.0f} s)")
        h.say(section.rstrip())
    h.say(f"\ntotal wall time: {time.monotonic() - started:.0f} s")
    return max((c for _, c, _, _ in summaries), default=0)


if __name__ == "__main__":
    sys.exit(main())
