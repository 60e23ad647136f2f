"""Ops library behind ``model evaluate`` and ``model score``: labelled CSV metrics and batch scoring.

Comment text is attacker-controlled; ``score`` writes it back out as CSV that
ops open in spreadsheets, so every cell that a spreadsheet would read as a
formula is neutralised (OWASP's CSV-injection advice: prefix with ``'``).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from moderation.cells import safe_cell  # one rule for every CSV the project writes (moderation export too)
from moderation.decide.policy import Thresholds, status_for
from moderation.model.scoring import ModelScorer
from moderation.reading.features import CommentDoc
from training.metrics import rates, recall_at_fpr

__all__ = ["evaluate_csv", "read_labelled", "safe_cell", "score_csv", "scorer_thresholds"]

BATCH = 512


def scorer_thresholds(scorer: ModelScorer, defaults: dict[str, Any] | None = None) -> Thresholds:
    """The thresholds a site without its own would get: the model card's, then the settings'."""
    return Thresholds.layered(scorer.card.thresholds, defaults)


def _open_rows(path: Path) -> tuple[list[str], Iterator[dict[str, str]], IO[str]]:
    """Open a CSV with a header holding ``text``; return (columns, rows, file)."""
    fh = path.open(encoding="utf-8", newline="")
    reader = csv.DictReader(fh)
    if not reader.fieldnames or "text" not in reader.fieldnames:
        fh.close()
        raise ValueError(f"{path}: needs a header with a 'text' column")
    return list(reader.fieldnames), reader, fh


def read_labelled(path: str | os.PathLike[str]) -> tuple[list[CommentDoc], np.ndarray]:
    """Read ``text,label`` rows (label spam/ham, optional author columns); refuse unknown labels before scoring."""
    columns, rows, fh = _open_rows(Path(path))
    with fh:
        if "label" not in columns:
            raise ValueError(f"{path}: needs a 'label' column (spam or ham)")
        docs, labels, bad = [], [], set()
        for line, row in enumerate(rows, start=2):
            label = (row.get("label") or "").strip().lower()
            if label not in ("spam", "ham"):
                bad.add(f"line {line}: {label[:20]!r}")
                continue
            docs.append(_doc(row))
            labels.append(int(label == "spam"))
    if bad:
        raise ValueError(f"{path}: labels must be 'spam' or 'ham' ({', '.join(sorted(bad)[:3])})")
    if not docs:
        raise ValueError(f"{path}: no rows")
    return docs, np.asarray(labels, dtype=np.int8)


def evaluate_csv(
    scorer: ModelScorer, path: str | os.PathLike[str], defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Score a labelled CSV; positives are comments not approved (held or spam), as the contract counts FPR."""
    docs, y = read_labelled(path)
    thresholds = scorer_thresholds(scorer, defaults)
    started = time.perf_counter()
    p = np.concatenate([_spam_scores(scorer, docs[i : i + BATCH]) for i in range(0, len(docs), BATCH)])
    seconds = time.perf_counter() - started
    both = len(set(y.tolist())) == 2
    return {
        "n": len(docs),
        "n_spam": int(y.sum()),
        "model_version": scorer.version,
        **rates(y, p >= thresholds.approve_below, counts=True),
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "recall_at_fpr_1pct": round(recall_at_fpr(y, p, 0.01), 4) if both else None,
        "recall_at_fpr_0_1pct": round(recall_at_fpr(y, p, 0.001), 4) if both else None,
        "decided_spam": rates(y, p > thresholds.spam_above, counts=True),
        "thresholds": {"approve_below": thresholds.approve_below, "spam_above": thresholds.spam_above},
        "seconds": round(seconds, 3),
        "comments_per_second": round(len(docs) / seconds, 1) if seconds > 0 else None,
    }


def _spam_scores(scorer: ModelScorer, docs: list[CommentDoc]) -> np.ndarray:
    """Spam probabilities only (no reasons: evaluation needs none)."""
    mats = scorer.model.rows(docs)
    return scorer.model.probabilities("spam", mats["spam"])


def score_csv(
    scorer: ModelScorer,
    path: str | os.PathLike[str],
    out: IO[str],
    defaults: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the CSV's rows with spam, abusive and decision columns added (formula-safe); return the row count."""
    columns, rows, fh = _open_rows(Path(path))
    thresholds = scorer_thresholds(scorer, defaults)
    added = [c for c in ("spam", "abusive", "decision") if c not in columns]
    writer = csv.DictWriter(out, fieldnames=columns + added, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    count = 0
    with fh:
        batch: list[dict[str, str]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                count += _write_batch(scorer, batch, writer, thresholds, progress)
                batch = []
        if batch:
            count += _write_batch(scorer, batch, writer, thresholds, progress)
    return count


def _write_batch(
    scorer: ModelScorer,
    batch: list[dict[str, str]],
    writer: csv.DictWriter[str],
    thresholds: Thresholds,
    progress: Callable[[int], None] | None,
) -> int:
    """Score one batch and write it."""
    docs = [_doc(row) for row in batch]
    mats = scorer.model.rows(docs)
    spam = scorer.model.probabilities("spam", mats["spam"])
    abusive = scorer.model.probabilities("abusive", mats["abusive"])
    for row, s, a in zip(batch, spam, abusive, strict=True):
        status, _ = status_for(float(s), float(a), thresholds)
        cleaned = {k: safe_cell(v) if isinstance(v, str) else "" for k, v in row.items() if k is not None}
        writer.writerow({**cleaned, "spam": f"{s:.6f}", "abusive": f"{a:.6f}", "decision": str(status.value)})
    if progress:
        progress(len(batch))
    return len(batch)


def _doc(row: dict[str, str]) -> CommentDoc:
    """A CSV row as the model reads it: text plus the optional author columns."""
    return CommentDoc(row.get("text") or "", row.get("author_name") or row.get("author") or "",
                      row.get("author_url") or "", row.get("author_email") or "")  # fmt: skip


def count_rows(path: str | os.PathLike[str]) -> int:
    """Number of data rows of a CSV (for a progress bar's length)."""
    _, rows, fh = _open_rows(Path(path))
    with fh:
        return sum(1 for _ in rows)
