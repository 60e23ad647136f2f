"""Run the whole evaluation (grouped CV, obfuscation, YouTube and abuse CV) and print it as tables.

``moderation model crossval --data ../shared/data [--out docs/model/crossval.md] [--json]``
or ``python -m training.crossval ../shared/data``.  CPU-heavy: run it with ``nice -n 19``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from training.evaluate import (
    abuse_cv,
    grouped_cv,
    load_binary,
    load_grouped_spam,
    recipes,
    summarise,
    ysc_cv,
)

__all__ = ["run_crossval", "to_markdown"]

_COLUMNS = ("n", "n_positive", "roc_auc", "pr_auc", "best_f1", "recall_at_fpr_1pct", "recall_at_fpr_0_1pct")


def run_crossval(
    data_dir: str | Path,
    names: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every part of the evaluation for the chosen recipes; return one JSON-able dict."""
    started = time.perf_counter()
    makers = recipes(names)
    root = Path(data_dir)
    spam = load_grouped_spam(root)
    result = grouped_cv(spam, makers, folds=folds, seed=seed, progress=progress)
    out: dict[str, Any] = {
        "grouped": summarise(spam, result),
        "grouped_rows": len(spam.texts),
        "grouped_groups": len(set(spam.groups)),
    }
    ysc = root / "youtube_spam_collection" / "data.csv"
    if ysc.is_file():
        out["youtube_spam_collection_f1"] = ysc_cv(load_binary(ysc, "spam"), makers, seed)
    abuse = root / "id_abusive_news_comments" / "data.csv"
    if abuse.is_file():
        out["id_abusive_news_comments_f1"] = abuse_cv(load_binary(abuse, "abusive"), makers, seed)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _fmt(value: Any) -> str:
    """A table cell."""
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _table(rows: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Markdown rows of (recipe, slice, metrics)."""
    lines = ["| recipe | slice | " + " | ".join(_COLUMNS) + " |", "|---|---|" + "---:|" * len(_COLUMNS)]
    lines += [f"| {r} | {s} | " + " | ".join(_fmt(m.get(c)) for c in _COLUMNS) + " |" for r, s, m in rows]
    return lines


def to_markdown(results: dict[str, Any]) -> str:
    """Render the results as Markdown tables (also what the CLI prints)."""
    grouped = results["grouped"]
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for name, entry in grouped.items():
        rows.append((name, "all", entry["all"]))
        rows += [(name, f"source {s}", m) for s, m in entry["by_source"].items()]
        rows += [(name, f"lang {g}", m) for g, m in entry["by_lang"].items()]
    lines = [
        "# Grouped cross-validation (held-out channels/videos and campaigns)",
        "",
        f"{results['grouped_rows']} de-duplicated rows in {results['grouped_groups']} groups; "
        "de-duplicated on normalised text; texts of judol_comments_akbaralfaidah dropped from the non-judol sets. "
        "Decision values pooled out of fold.",
        "",
        *_table(rows),
        "",
        "## Obfuscation check (threshold: 1 % FPR on each fold's clean ham)",
        "",
        "| recipe | clean recall | obfuscated recall | clean FPR | obfuscated FPR | fit seconds (all folds) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, entry in grouped.items():
        o = entry["obfuscation"]
        lines.append(f"| {name} | {o['clean_recall']:.4f} | {o['obfuscated_recall']:.4f} | {o['clean_fpr']:.4f} | "
                     f"{o['obfuscated_fpr']:.4f} | {entry['fit_seconds']} |")  # fmt: skip
    if "youtube_spam_collection_f1" in results:
        lines += ["", "## youtube_spam_collection, 5-fold stratified CV, F1 at the default threshold", "",
                  "| recipe | F1 |", "|---|---:|"]  # fmt: skip
        lines += [f"| {k} | {v:.4f} |" for k, v in results["youtube_spam_collection_f1"].items()]
    if "id_abusive_news_comments_f1" in results:
        lines += ["", "## id_abusive_news_comments, 5-fold stratified CV, `abusive` F1", "",
                  "| recipe | F1 at default threshold | F1 at inner-fold threshold |", "|---|---:|---:|"]  # fmt: skip
        lines += [f"| {k} | {v['f1_at_default']:.4f} | {v['f1_inner_threshold']:.4f} |"
                  for k, v in results["id_abusive_news_comments_f1"].items()]  # fmt: skip
    lines += ["", f"Total run time: {results['seconds']} s."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry: DATA_DIR [OUT.md] [--recipe NAME ...]."""
    args = list(sys.argv[1:] if argv is None else argv)
    names = [args[i + 1] for i, a in enumerate(args) if a == "--recipe"]
    positional = [a for i, a in enumerate(args) if a != "--recipe" and (i == 0 or args[i - 1] != "--recipe")]
    results = run_crossval(positional[0], names or None, progress=lambda m: print(m, file=sys.stderr, flush=True))
    markdown = to_markdown(results)
    print(markdown)
    if len(positional) > 1:
        Path(positional[1]).write_text(markdown, encoding="utf-8")
        Path(positional[1]).with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
