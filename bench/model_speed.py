"""Model speed figures against the previous recipe and the yardstick, measured in the same run (prints medians;
asserts nothing).

    nice -n 19 .venv/bin/python bench/model_speed.py [DATA_DIR]

Figures: training seconds on all commercially usable sets (ours and the
previous recipe: both heads, the held-out split, the held-out sources,
calibration, as `model train` does; the yardstick: char 2-5-gram LinearSVC on
the spam rows), batch scoring throughput on one core as a worker scores (with
reasons for suspect rows; wall clock, and CPU time of this thread: on a shared
machine the wall figure includes time other processes held the core),
`model score`'s own CSV-to-CSV loop (no reasons, CSV parsing and writing
included), one-comment latency (median and p99, wall and CPU), model file size,
load time, and the RSS of a fresh process that has loaded the model and scored
once.  The first batch pass over the sample starts with empty caches (printed
as "cold"); the throughput figures are medians of five rounds in which the
scorers take turns, so a slow spell of a shared machine costs each alike.
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

from moderation.model.estimator import LEGACY_PARAMS  # noqa: E402
from moderation.model.registry import save_model  # noqa: E402
from moderation.model.scoring import load_scorer  # noqa: E402
from training.csv_scoring import score_csv  # noqa: E402
from training.datasets import find_word_map, load_sources  # noqa: E402
from training.evaluate import yardstick_svm  # noqa: E402
from training.train import train_model  # noqa: E402

_RSS_CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from moderation.model.scoring import load_scorer
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


def _batch(scorer: object, sample: list[str], batch: int = 256) -> None:
    """Score the sample as a worker does: batches of 256, reasons for suspect rows."""
    for i in range(0, len(sample), batch):
        scorer.score(sample[i : i + batch])  # type: ignore[attr-defined]


def _interleaved(scorers: dict[str, object], sample: list[str], folder: Path,
                 repeat: int = 5) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per scorer, median seconds of each figure over ``repeat`` rounds that take turns (one scorer, then the next):
    on a shared machine, a slow spell then costs every scorer alike instead of whichever ran during it."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name in scorers}
    for _ in range(repeat):
        for name, scorer in scorers.items():
            for figure, clock in (("batch wall", time.perf_counter), ("batch cpu", time.thread_time)):
                started = clock()
                _batch(scorer, sample)
                times[name].setdefault(figure, []).append(clock() - started)
            if not isinstance(scorer, _Yardstick):  # the yardstick has no CSV path of its own
                times[name].setdefault("csv", []).append(_score_csv_seconds(scorer, sample, folder))
    return {name: {k: statistics.median(v) for k, v in figures.items()} for name, figures in times.items()}


def _score_csv_seconds(scorer: object, texts: list[str], folder: Path) -> float:
    """Seconds of one pass of `moderation model score`'s own loop (training.csv_scoring.score_csv) over the texts."""
    path = folder / "comments.csv"
    if not path.exists():
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text"])
            writer.writerows([t] for t in texts)
    started = time.perf_counter()
    score_csv(scorer, path, io.StringIO())  # type: ignore[arg-type]
    return time.perf_counter() - started


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
    sample = (texts * 2)[:20_000]
    with tempfile.TemporaryDirectory() as tmp:
        scorers: dict[str, object] = {}
        for name, (model, card) in trained.items():
            folder = Path(tmp) / name.replace(" ", "_")
            version = save_model(model, card, folder, activate=True)
            size_mb = (folder / version / "model.joblib").stat().st_size / 1e6
            load_s = _median_time(lambda folder=folder: load_scorer(folder), 5)
            print(f"[{name}] model file {size_mb:6.1f} MB, load (sha256 + unpickle + warm-up, median) "
                  f"{load_s * 1000:4.0f} ms")  # fmt: skip
            scorers[name] = load_scorer(folder)
            cold = _median_time(lambda s=scorers[name]: _batch(s, sample), repeat=1, clock=time.thread_time)
            print(f"[{name}] batch scoring, first pass (cold caches, CPU) {len(sample) / cold:8.0f}/s")
        scorers["yardstick"] = _Yardstick(yard)
        figures = _interleaved(scorers, sample, Path(tmp))
        for name, f in figures.items():
            csv_rate = f"  |  model score CSV to CSV {len(sample) / f['csv']:6.0f}/s" if "csv" in f else ""
            print(f"[{name}] batch scoring (256/batch, 1 core, reasons for suspect rows) wall "
                  f"{len(sample) / f['batch wall']:6.0f}/s  CPU {len(sample) / f['batch cpu']:6.0f}/s{csv_rate}")
        for name in trained:
            for label, clock in (("wall", time.perf_counter), ("CPU ", time.thread_time)):
                one = _one_by_one(scorers[name], sample[:2000], clock)
                print(f"[{name}] one comment ({label}) median {statistics.median(one) * 1000:.2f} ms  "
                      f"p99 {one[int(0.99 * len(one))] * 1000:.2f} ms")  # fmt: skip
            out = subprocess.run([sys.executable, "-c", _RSS_CHILD.format(root=str(ROOT), model_dir=str(
                Path(tmp) / name.replace(" ", "_")))], capture_output=True, text=True, check=True)  # fmt: skip
            print(f"[{name}] RSS after load + score (both heads) {int(out.stdout.strip()) / 1024:6.0f} MB")
        print(f"[yardstick] model file {len(pickle.dumps(yard, protocol=5)) / 1e6:6.1f} MB")


class _Yardstick:
    """The yardstick pipeline behind the scorer interface (decision values only: no reasons, no second head)."""

    def __init__(self, pipe: object) -> None:
        """Keep the fitted pipeline."""
        self.pipe = pipe
        self.model = self

    def score(self, texts: list[str]) -> object:
        """Decision values of a batch."""
        return self.pipe.decision_function(texts)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
