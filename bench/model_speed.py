"""Model speed figures against the previous recipe and the yardstick, measured in the same run (prints medians;
asserts nothing).

    nice -n 19 .venv/bin/python bench/model_speed.py [DATA_DIR]

Figures: training seconds on all commercially usable sets (ours and the
previous recipe: both heads, the held-out split, the held-out sources,
calibration, as `model train` does; the yardstick: char 2-5-gram LinearSVC on
the spam rows), batch scoring throughput
on one core as a worker scores (with reasons for suspect rows; wall clock, and
CPU time of this thread: on a shared machine the wall figure includes time
other processes held the core), `model score`'s own CSV-to-CSV loop (no
reasons, CSV parsing and writing included), one-comment latency
(median and p99, wall and CPU), model file size, load time, and the RSS of a
fresh process that has loaded the model and scored once.  The first batch pass
over the sample starts with an empty word cache (printed as "cold"); the
median of three passes is the steady state of a worker.
"""

from __future__ import annotations

import csv
import io
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataclasses import replace  # noqa: E402

from moderation.model import LEGACY_PARAMS  # noqa: E402
from moderation.scoring import load_scorer  # noqa: E402
from training.datasets import find_word_map, load_sources  # noqa: E402
from training.evaluate import yardstick_svm  # noqa: E402
from training.ops import score_csv  # noqa: E402
from training.registry import save_model  # noqa: E402
from training.train import train_model  # noqa: E402

_RSS_CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from moderation.scoring import load_scorer
s = load_scorer({model_dir!r})
s.score(["cek slot gacor di garuda138", "semoga aman"] * 128)
# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from the parent's at fork.
print([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
"""


def _median_time(fn: object, repeat: int = 3, clock: object = time.perf_counter) -> float:
    """Median time of calling fn() by ``clock`` (wall by default)."""
    times = []
    for _ in range(repeat):
        started = clock()  # type: ignore[operator]
        fn()  # type: ignore[operator]
        times.append(clock() - started)  # type: ignore[operator]
    return statistics.median(times)


def _one_by_one(scorer: object, texts: list[str], clock: object) -> list[float]:
    """Sorted per-call times of scoring each text alone."""
    one = []
    for text in texts:
        started = clock()  # type: ignore[operator]
        scorer.score([text])  # type: ignore[attr-defined]
        one.append(clock() - started)  # type: ignore[operator]
    return sorted(one)


def _score_csv_rate(scorer: object, texts: list[str], folder: Path) -> float:
    """Comments per second of `moderation model score`'s own loop (training.ops.score_csv), median of 3."""
    path = folder / "comments.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    seconds = _median_time(lambda: score_csv(scorer, path, io.StringIO()))  # type: ignore[arg-type]
    return len(texts) / seconds


def _measure(name: str, model: object, card: dict, texts: list[str], yard: object) -> None:
    """Print the file, load, scoring, latency and RSS figures of one trained model (yardstick beside it)."""
    with tempfile.TemporaryDirectory() as tmp:
        version = save_model(model, card, tmp, activate=True)  # type: ignore[arg-type]
        path = Path(tmp) / version / "model.joblib"
        yard_mb = len(pickle.dumps(yard, protocol=5)) / 1e6
        print(f"[{name}] model file                       {path.stat().st_size / 1e6:6.1f} MB  "
              f"(yardstick {yard_mb:.1f} MB)")  # fmt: skip
        print(f"[{name}] load (sha256 + unpickle, median) {_median_time(lambda: load_scorer(tmp), 5) * 1000:6.0f} ms")
        scorer = load_scorer(tmp)
        sample = (texts * 2)[:20_000]
        batch = 256

        def ours() -> None:
            for i in range(0, len(sample), batch):
                scorer.score(sample[i : i + batch])

        t_cold = _median_time(ours, repeat=1, clock=time.thread_time)
        t_ours = _median_time(ours)
        t_cpu = _median_time(ours, clock=time.thread_time)
        t_yard = _median_time(lambda: [yard.decision_function(sample[i : i + batch])  # type: ignore[attr-defined]
                                       for i in range(0, len(sample), batch)])  # fmt: skip
        print(f"[{name}] batch scoring (256/batch, 1 core) {len(sample) / t_ours:8.0f}/s  "
              f"yardstick {len(sample) / t_yard:8.0f}/s")  # fmt: skip
        print(f"[{name}]   by CPU time                     {len(sample) / t_cpu:8.0f}/s  "
              f"(cold word cache, first pass: {len(sample) / t_cold:.0f}/s)")  # fmt: skip
        csv_rate = _score_csv_rate(scorer, sample, Path(tmp))
        print(f"[{name}] model score (CSV in, CSV out, 1 core) {csv_rate:8.0f}/s  (what the CLI runs: no reasons)")
        for label, clock in (("wall", time.perf_counter), ("CPU ", time.thread_time)):
            one = _one_by_one(scorer, sample[:2000], clock)
            print(f"[{name}] one comment ({label})               median {statistics.median(one) * 1000:.2f} ms  "
                  f"p99 {one[int(0.99 * len(one))] * 1000:.2f} ms")  # fmt: skip
        out = subprocess.run([sys.executable, "-c", _RSS_CHILD.format(root=str(ROOT), model_dir=tmp)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        print(f"[{name}] RSS after load + score (both heads) {int(out.stdout.strip()) / 1024:6.0f} MB")


def main() -> None:
    """Measure and print every figure."""
    data = sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared" / "data")
    spam = [s for s in load_sources([data]) if s.kind == "spam"]
    texts = [t for s in spam for t in s.texts]
    labels = [y for s in spam for y in s.labels]
    print(f"data: {len(texts)} spam-head rows from {[s.name for s in spam]}")
    previous_params = replace(LEGACY_PARAMS, word_map=find_word_map([data]))
    trained = {}
    for name, params in (("ours", None), ("previous recipe", previous_params)):
        started = time.perf_counter()
        trained[name] = train_model([data], params=params)
        print(f"train (all commercial sets) {name:16s} {time.perf_counter() - started:6.1f} s")
    yard_train = _median_time(lambda: yardstick_svm().fit(texts, labels), repeat=1)
    print(f"train (all commercial sets) yardstick        {yard_train:6.1f} s")
    yard = yardstick_svm().fit(texts, labels)
    for name, (model, card) in trained.items():
        _measure(name, model, card, texts, yard)


if __name__ == "__main__":
    main()
