"""A per-model report: PR and ROC curves, confusion matrix and calibration plot (PNGs) plus report.md.

Written into the model's version folder next to card.json.  matplotlib (Agg,
no display) stays in ``training``: the web and workers never import it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

__all__ = ["cross_source_lines", "write_report"]

REPORT_FILE = "report.md"


def _plt() -> Any:
    """matplotlib's pyplot on the Agg backend (imported lazily: it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> str:
    """Save and close a figure; return its file name."""
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    _plt().close(fig)
    return path.name


def _curves(head: str, y: np.ndarray, p: np.ndarray, folder: Path) -> list[str]:
    """ROC and PR curves of one head."""
    plt = _plt()
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(9, 4))
    fpr, tpr, _ = roc_curve(y, p)
    roc_ax.plot(fpr, tpr)
    roc_ax.set_xscale("symlog", linthresh=0.001)
    roc_ax.set(title=f"{head}: ROC (log FPR)", xlabel="false-positive rate", ylabel="recall", xlim=(0, 1))
    precision, recall, _ = precision_recall_curve(y, p)
    pr_ax.plot(recall, precision)
    pr_ax.set(title=f"{head}: precision-recall", xlabel="recall", ylabel="precision")
    return [_save(fig, folder / f"{head}_curves.png")]


def _confusion(head: str, y: np.ndarray, p: np.ndarray, threshold: float, folder: Path) -> tuple[str, np.ndarray]:
    """Confusion matrix at the card's threshold."""
    flagged = p > threshold
    matrix = np.array([[np.sum(~flagged & (y == 0)), np.sum(flagged & (y == 0))],
                       [np.sum(~flagged & (y == 1)), np.sum(flagged & (y == 1))]])  # fmt: skip
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["kept", "flagged"], yticklabels=["negative", "positive"],
           title=f"{head} at > {threshold:.3f}")  # fmt: skip
    return _save(fig, folder / f"{head}_confusion.png"), matrix


def _calibration(head: str, y: np.ndarray, p: np.ndarray, folder: Path) -> str:
    """Reliability diagram: mean predicted probability vs observed rate per bin."""
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.plot(predicted, observed, marker="o")
    ax.set(title=f"{head}: calibration", xlabel="predicted probability", ylabel="observed share positive")
    return _save(fig, folder / f"{head}_calibration.png")


_RATES = ("spam_published", "spam_held", "ham_held", "ham_marked_spam")


def cross_source_lines(card: dict[str, Any]) -> list[str]:
    """Markdown table of the card's cross-source figures: each held-out source and their average (or nothing)."""
    rates = card.get("cross_source", {}).get("rates")
    if not rates:
        return []
    lines = ["## Sources held out whole (how a new site will see this model)", "",
             "Each source scored by the recipe trained without it, at this model's thresholds.", "",
             "| held out | ROC-AUC | recall @ 1 % FPR | recall @ 0.1 % FPR | spam published | spam held | ham held | "
             "ham marked spam |", "|---|" + "---:|" * 7]  # fmt: skip
    for name, m in rates.items():
        cells = [str(m.get(k)) for k in ("roc_auc", "recall_at_fpr_1pct", "recall_at_fpr_0_1pct")]
        cells += [f"{100 * m[k]:.2f} %" for k in _RATES]
        lines.append(f"| {'average' if name == 'macro' else name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def write_report(
    folder: str | os.PathLike[str], card: dict[str, Any], held_out: dict[str, tuple[np.ndarray, np.ndarray]]
) -> Path:
    """Write the PNGs and report.md for a saved version; return the report's path."""
    root = Path(folder)
    thresholds = card.get("thresholds", {})
    lines = [f"# Model {card.get('version', '')}", "",
             f"Created {card.get('created_at')}; data fingerprint `{card.get('data_fingerprint', '')[:16]}`; "
             f"sklearn {card.get('sklearn')}.", "",
             "The figures below are in-source: from the 80/20 held-out split of the training sources. "
             f"Spam thresholds: {card.get('thresholds_from', 'in-source held-out split')}.", ""]  # fmt: skip
    lines += cross_source_lines(card)
    for head, (y, p) in held_out.items():
        if len(set(np.asarray(y).tolist())) < 2:
            continue
        threshold = float(thresholds.get("spam_above" if head == "spam" else "abusive_above", 0.5))
        m = card.get("metrics", {}).get(head, {})
        images = _curves(head, y, p, root)
        image, matrix = _confusion(head, y, p, threshold, root)
        images += [image, _calibration(head, y, p, root)]
        lines += [f"## {head}", "",
                  f"ROC-AUC {m.get('roc_auc')}, PR-AUC {m.get('pr_auc')}, recall at 1 % FPR "
                  f"{m.get('recall_at_fpr_1pct')}; at > {threshold:.3f}: precision {m.get('precision')}, "
                  f"recall {m.get('recall')} (TN {matrix[0, 0]}, FP {matrix[0, 1]}, FN {matrix[1, 0]}, "
                  f"TP {matrix[1, 1]}).", ""]  # fmt: skip
        lines += [f"![{name}]({name})" for name in images] + [""]
    path = root / REPORT_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
