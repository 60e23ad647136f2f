"""Run the whole evaluation and print it as tables: cross-source slices and the ablation (how recipes are
chosen), then in-source grouped CV with the obfuscation check, YouTube and abuse CV, and the hardest errors.

``moderation model crossval --data ../shared/data [--out docs/model/crossval.md] [--json] [--errors 15]``
or ``python -m training.crossval ../shared/data [OUT.md] [--recipe NAME ...] [--errors N] [--no-ablation]``.
CPU-heavy (about 20 minutes on two cores): run it with ``nice -n 19``.  The report ends with the hardest
false positives and negatives of the shipped recipe ("ours") in the grouped CV.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moderation.model.estimator import ABUSIVE
from training.crosssource import cross_source_markdown, run_cross_source, verdict
from training.datasets import find_word_map
from training.error_analysis import hardest_errors, markdown_section
from training.evaluate import (
    OURS,
    YARDSTICK,
    CVResult,
    EvalData,
    abuse_cv,
    grouped_cv,
    load_binary,
    load_grouped_spam,
    recipes,
    summarise,
    ysc_cv,
)

__all__ = ["run_crossval", "to_markdown"]

ERRORS = 15
"""How many of the hardest false positives and negatives the report lists by default."""
_COLUMNS = ("n", "n_positive", "roc_auc", "pr_auc", "best_f1", "recall_at_fpr_1pct", "recall_at_fpr_0_1pct")


def run_crossval(
    data_dir: str | Path,
    names: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    errors: int = ERRORS,
    cross_source: bool = True,
    ablation: bool = True,
) -> dict[str, Any]:
    """Run every part of the evaluation for the chosen recipes; return one JSON-able dict.

    ``errors``: how many hardest false positives/negatives of the shipped recipe to list (0: none);
    ``cross_source`` / ``ablation``: include the cross-source slices / the ablation on them.
    """
    started = time.perf_counter()
    root = Path(data_dir)
    word_map = find_word_map([root])  # the word map `model train --data DIR` would use
    makers = recipes(names, word_map=word_map)
    out: dict[str, Any] = {}
    if cross_source:
        out["cross_source"] = run_cross_source(root, ablation=ablation, progress=progress)
    spam = load_grouped_spam(root)
    result = grouped_cv(spam, makers, folds=folds, seed=seed, progress=progress)
    out |= {"grouped": summarise(spam, result), "grouped_rows": len(spam.texts),
            "grouped_groups": len(set(spam.groups))}  # fmt: skip
    if OURS in out["grouped"] and YARDSTICK in out["grouped"]:
        out["in_source_verdict"] = verdict({"grouped CV": out["grouped"][OURS]["all"]},
                                           {"grouped CV": out["grouped"][YARDSTICK]["all"]})  # fmt: skip
    hard = _hardest(spam, result, errors)
    if hard is not None:
        out["hardest_errors"] = hard
    ysc = root / "youtube_spam_collection" / "data.csv"
    if ysc.is_file():
        out["youtube_spam_collection_f1"] = ysc_cv(load_binary(ysc, "spam"), makers, seed)
    abuse = root / "id_abusive_news_comments" / "data.csv"
    if abuse.is_file():
        abusive = recipes(names, word_map=word_map, head=ABUSIVE)  # ours fitted as the abusive head
        out["id_abusive_news_comments_f1"] = abuse_cv(load_binary(abuse, "abusive"), abusive, seed)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _hardest(data: EvalData, result: CVResult, n: int) -> dict[str, Any] | None:
    """The hardest errors of the shipped recipe ("ours"), or None when it did not run or n == 0."""
    if OURS not in result.clean or n <= 0:
        return None
    return {"recipe": OURS, **hardest_errors(data, result.clean[OURS], result.fold, n).to_dict()}


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


def _style_table(grouped: dict[str, Any]) -> list[str]:
    """The obfuscation check per style: each recipe's obfuscated spam recall / ham FPR (clean threshold)."""
    names = [n for n, e in grouped.items() if e.get("obfuscation_by_style")]
    if not names:
        return []
    first = grouped[names[0]]["obfuscation_by_style"]
    header = "| style | spam | ham | " + " | ".join(names) + " |"
    lines = ["", "#### By style", "",
             "Obfuscated spam recall (its change against the same comments unobfuscated) / obfuscated ham FPR, "
             "at each fold's clean 1 %-FPR threshold.", "",
             header, "|---|---:|---:|" + "---:|" * len(names)]  # fmt: skip
    for style, counts in first.items():
        cells = [grouped[n]["obfuscation_by_style"].get(style) for n in names]
        shown = [_style_cell(c) if c else "" for c in cells]
        lines.append(f"| {style} | {counts['n_spam']} | {counts['n_ham']} | " + " | ".join(shown) + " |")
    return lines


def _style_cell(counts: dict[str, Any]) -> str:
    """'0.7146 (-5.0 %) / 1.18 %': obfuscated recall, its relative change from clean, obfuscated ham FPR."""
    clean, obf = counts["clean_recall"], counts["obfuscated_recall"]
    change = 100 * (obf - clean) / clean if clean else 0.0
    return f"{obf:.4f} ({change:+.1f} %) / {100 * counts['obfuscated_fpr']:.2f} %"


def _grouped_markdown(results: dict[str, Any]) -> list[str]:
    """The in-source section: the grouped-CV table, the obfuscation check and its styles."""
    grouped = results["grouped"]
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for name, entry in grouped.items():
        rows.append((name, "all", entry["all"]))
        rows += [(name, f"source {s}", m) for s, m in entry["by_source"].items()]
        rows += [(name, f"lang {g}", m) for g, m in entry["by_lang"].items()]
    lines = []
    if "in_source_verdict" in results:
        found = results["in_source_verdict"]
        margins = ", ".join(f"{k} {v:+.4f}" for k, v in found["worst"].items())
        lines += [f"In-source (grouped CV below, all rows), ours against the yardstick: "
                  f"{'wins' if found['beats_every_slice'] else 'loses'} ({margins}).", ""]  # fmt: skip
    lines += [
        "## In-source: grouped cross-validation (held-out channels/videos and campaigns)",
        "",
        f"{results['grouped_rows']} de-duplicated rows in {results['grouped_groups']} groups; "
        "de-duplicated on normalised text; texts of judol_comments_akbaralfaidah dropped from the non-judol sets. "
        "Decision values pooled out of fold.",
        "",
        *_table(rows),
        "",
        "### Obfuscation check (threshold: 1 % FPR on each fold's clean ham)",
        "",
        "| recipe | clean recall | obfuscated recall | clean FPR | obfuscated FPR | fit seconds (all folds) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, entry in grouped.items():
        o = entry["obfuscation"]
        lines.append(f"| {name} | {o['clean_recall']:.4f} | {o['obfuscated_recall']:.4f} | {o['clean_fpr']:.4f} | "
                     f"{o['obfuscated_fpr']:.4f} | {entry['fit_seconds']} |")  # fmt: skip
    return lines + _style_table(grouped)


def to_markdown(results: dict[str, Any]) -> str:
    """Render the results as Markdown tables (also what the CLI prints); parts that did not run are left out."""
    lines = ["# How the model is chosen and measured", ""]
    if "cross_source" in results:
        lines += [*cross_source_markdown(results["cross_source"]), ""]
    if "grouped" in results:
        lines += _grouped_markdown(results)
    if "youtube_spam_collection_f1" in results:
        lines += ["", "### youtube_spam_collection, 5-fold stratified CV, F1 at the default threshold", "",
                  "| recipe | F1 |", "|---|---:|"]  # fmt: skip
        lines += [f"| {k} | {v:.4f} |" for k, v in results["youtube_spam_collection_f1"].items()]
    if "id_abusive_news_comments_f1" in results:
        lines += ["", "### id_abusive_news_comments, 5-fold stratified CV, `abusive` F1", "",
                  "| recipe | F1 at default threshold | F1 at inner-fold threshold |", "|---|---:|---:|"]  # fmt: skip
        lines += [f"| {k} | {v['f1_at_default']:.4f} | {v['f1_inner_threshold']:.4f} |"
                  for k, v in results["id_abusive_news_comments_f1"].items()]  # fmt: skip
    if "hardest_errors" in results:
        lines += ["", *markdown_section(results["hardest_errors"])]
    lines += ["", f"Total run time: {results['seconds']} s."]
    return "\n".join(lines) + "\n"


def _stderr(message: str) -> None:
    """Progress goes to stderr, so stdout carries the report alone."""
    print(message, file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: DATA_DIR [OUT.md] [--recipe NAME ...] [--errors N]."""
    parser = argparse.ArgumentParser(prog="python -m training.crossval", description="Grouped cross-validation report.")
    parser.add_argument("data", type=Path, help="A folder laid out like shared/data.")
    parser.add_argument("out", type=Path, nargs="?", help="Also write the Markdown here (and the .json beside it).")
    parser.add_argument("--recipe", dest="names", metavar="NAME", action="append", help="Only this recipe (repeat).")
    parser.add_argument("--errors", type=int, default=ERRORS, metavar="N", help="Hardest errors to list (default 15).")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false", help="Skip the ablation table.")
    args = parser.parse_intermixed_args(argv)
    if args.errors < 0:
        parser.error("--errors must be 0 or more")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry: DATA_DIR [OUT.md] [--recipe NAME ...] [--errors N]."""
    args = _parse(argv)
    results = run_crossval(args.data, args.names, progress=_stderr, errors=args.errors, ablation=args.ablation)
    markdown = to_markdown(results)
    print(markdown)
    if args.out is not None:
        args.out.write_text(markdown, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
