"""Cross-source evaluation: recipes against the plain yardstick on sources held out whole.

A recipe tuned on folds of its own training sources can look far better
there and still lose to a plain model on a source it never saw; a new news
site is such a source.  So recipes are chosen here, on slices no model in the
comparison was trained on:

* every evaluation-only source of the data folder (``eval_only = true`` in the
  manifest), scored by models trained on all of ``model train --data DIR``'s
  default sources;
* every default spam source held out in turn (leave one source out), scored by
  models trained on the others.

The seed set and the abuse sources stay in every training set.  In one run, on
the same rows, the yardstick (``training.evaluate.yardstick_svm``) and our
recipes are trained on the same rows.  Ours are trained exactly as ``model
train`` trains them, calibration and thresholds included, so each slice also
shows the default decisions (spam published, ham held, ham marked spam).  The
ablation table refits the spam head of one-part-changed variants on every slice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from moderation.model.estimator import ABUSIVE, LEGACY_PARAMS, SPAM, FeatureParams
from moderation.reading.fingerprint import reading_fingerprint
from moderation.reading.signals import ALL_SIGNAL_NAMES, DISGUISED_BRAND
from training.datasets import find_word_map, load_eval_sources, load_sources
from training.evaluate import SklearnRecipe, yardstick_svm
from training.metrics import curve_metrics, decision_rates
from training.train import HeadData, _collect, dedupe, fit_heads, held_out, read_corpus, train_heads

__all__ = ["COMPARED", "MIN_HAM_FOR_FINE_FPR", "Slice", "ablation_variants", "cross_source_markdown",
           "load_cross_source", "run_cross_source", "shipped_recipe", "verdict"]  # fmt: skip

MIN_HAM_FOR_FINE_FPR = 1_000
"""Ham a slice needs before its recall at 0.1 % FPR counts in the verdict (below it, 0.1 % means no ham at all)."""
COMPARED = ("roc_auc", "recall_at_fpr_1pct", "recall_at_fpr_0_1pct")
"""The metrics a recipe must not lose on any slice to beat the yardstick."""
_KEPT = ("n", "n_positive", "roc_auc", "pr_auc", "best_f1", "recall_at_fpr_1pct", "recall_at_fpr_0_1pct")


@dataclass
class Slice:
    """Comments held out whole: which spam training rows the models may use, and the held-out rows."""

    name: str
    kind: str  # "evaluation only" or "held out"
    train: np.ndarray  # boolean mask over the spam training rows
    test: np.ndarray  # positions of the held-out rows in the pooled spam rows (training rows first)


@dataclass
class CrossSourceData:
    """The default training rows (both heads) and every held-out comment, pooled into one spam table."""

    heads: dict[str, HeadData]  # the training rows, as ``model train --data DIR`` dedupes them
    pooled: HeadData  # spam training rows, then the rows of every evaluation-only source
    slices: list[Slice]
    word_map: str | None


def _subset(data: HeadData, mask: np.ndarray) -> HeadData:
    """The rows of a head where ``mask`` is true."""
    idx = np.flatnonzero(mask)
    return HeadData([data.texts[i] for i in idx], [data.normalized[i] for i in idx], data.labels[idx],
                    [data.sources[i] for i in idx], [data.docs[i] for i in idx], data.weight()[idx])  # fmt: skip


def _concat(first: HeadData, second: HeadData) -> HeadData:
    """Two heads' rows one after the other."""
    return HeadData(first.texts + second.texts, first.normalized + second.normalized,
                    np.concatenate([first.labels, second.labels]), first.sources + second.sources,
                    first.docs + second.docs, np.concatenate([first.weight(), second.weight()]))  # fmt: skip


def load_cross_source(data_dir: str | Path) -> CrossSourceData:
    """The default training rows of a data folder (plus the seed set) and its cross-source slices."""
    root = Path(data_dir)
    heads = _collect(load_sources([root]) + load_sources([]))
    spam = heads[SPAM]
    evaluation = [dedupe([s]) for s in load_eval_sources(root) if s.kind == "spam"]
    pooled = spam
    slices = []
    for data in evaluation:
        start = len(pooled.labels)
        pooled = _concat(pooled, data)
        slices.append(Slice(data.sources[0], "evaluation only", np.ones(len(spam.labels), dtype=bool),
                            np.arange(start, start + len(data.labels))))  # fmt: skip
    source_of = np.asarray(spam.sources)
    for name in sorted({s for s in spam.sources if not s.startswith("seed")}):
        held = source_of == name
        slices.append(Slice(name, "held out", ~held, np.flatnonzero(held)))
    return CrossSourceData(heads, pooled, slices, find_word_map([root]))


def _metrics(y: np.ndarray, decisions: np.ndarray) -> dict[str, Any]:
    """The ranking metrics a slice reports."""
    found = curve_metrics(y, decisions)
    return {k: found[k] for k in _KEPT}


def _trained_full(data: CrossSourceData, piece: Slice, params: FeatureParams) -> dict[str, Any]:
    """Ours trained as ``model train`` does on the slice's training rows; its metrics and default decisions."""
    heads = {SPAM: _subset(data.heads[SPAM], piece.train), ABUSIVE: data.heads[ABUSIVE]}
    model, card = train_heads(heads, params)
    docs = [data.pooled.docs[i] for i in piece.test]
    rows = model.rows(docs)[SPAM]
    decisions = model.decision(SPAM, rows)
    spam = model.probabilities(SPAM, rows)
    y = data.pooled.labels[piece.test]
    t = card["thresholds"]
    return _metrics(y, decisions) | decision_rates(y, spam, t["approve_below"], t["spam_above"]) | {"thresholds": t}


def _yardstick(data: CrossSourceData, piece: Slice) -> dict[str, Any]:
    """The yardstick fitted on the slice's training rows and scored on its held-out rows."""
    train = data.heads[SPAM]
    recipe = SklearnRecipe(yardstick_svm).fit([train.texts[i] for i in np.flatnonzero(piece.train)],
                                              train.labels[piece.train])  # fmt: skip
    decisions = recipe.decision([data.pooled.texts[i] for i in piece.test])
    return _metrics(data.pooled.labels[piece.test], decisions)


def ablation_variants(word_map: str | None) -> dict[str, FeatureParams]:
    """Ours with one part changed at a time (the first entry is ours), by what changed."""
    ours = FeatureParams(word_map=word_map)
    every_signal = tuple(n for n in ALL_SIGNAL_NAMES if n != "signal:capitals")
    return {  # the variants that only change the fit first: they share ours' corpus
        "ours": ours,
        "no class balance": replace(ours, class_weight=None),
        "C 0.25 (more regularised)": replace(ours, C=0.25),
        "C 1": replace(ours, C=1.0),
        "logistic regression (C 8, unbalanced)": replace(ours, classifier="lr", C=8.0, class_weight=None),
        "disguised brand learnt, not pinned": replace(ours, brand_prior=0.0),
        "char_wb (n-grams within words) instead of char": replace(ours, char_analyzer="char_wb"),
        "+ word 1-2-grams": replace(ours, word=True),
        "no style copies": replace(ours, style_copies=False),
        "no disguised-brand signal": replace(ours, brand_prior=0.0, signal_names=("signal:phone",)),
        "no phone signal": replace(ours, signal_names=(DISGUISED_BRAND,)),
        "+ every other signal": replace(ours, signal_names=every_signal),
        "+ brand mask (xbrandx in the n-grams)": replace(ours, brands=True),
        "word map in the n-grams too": replace(ours, map_ngrams=True),
        "no word map (lexicon reads unmapped words)": replace(ours, word_map=None),
        "no author signals": replace(ours, author=False),
        "no lexicon": replace(ours, lexicon=None),
        "previous recipe": replace(LEGACY_PARAMS, word_map=word_map),
    }


def _reading_key(params: FeatureParams) -> tuple[Any, ...]:
    """What a corpus depends on: every setting but the classifier's (those only change the fit)."""
    skip = {"C", "classifier", "class_weight", "brand_prior", "cross_source_thresholds"}
    return tuple((k, v) for k, v in sorted(asdict(params).items()) if k not in skip)


def _ablation(data: CrossSourceData, variants: dict[str, FeatureParams],
              progress: Callable[[str], None]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Each variant's spam head fitted on every slice's training rows, ranking metrics on its held-out rows."""
    corpora: dict[tuple[Any, ...], Any] = {}
    out: dict[str, dict[str, Any]] = {}
    for name, params in variants.items():
        started = time.perf_counter()
        key = _reading_key(params)
        if key not in corpora:
            corpora = {key: read_corpus({SPAM: data.pooled}, params)}  # one corpus in memory at a time
        corpus, layout = corpora[key]
        out[name] = {}
        for piece in data.slices:
            fit = fit_heads(corpus, layout, {SPAM: np.flatnonzero(piece.train)}, params)
            decisions = held_out(corpus, layout, fit, SPAM, piece.test)
            out[name][piece.name] = _metrics(data.pooled.labels[piece.test], decisions)
        progress(f"ablation {name}: {time.perf_counter() - started:.0f} s")
    return out


def verdict(candidate: dict[str, dict[str, Any]], yardstick: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Whether a recipe beats the yardstick: on every slice no compared metric lower and at least one higher.

    Recall at 0.1 % FPR counts only where the slice has MIN_HAM_FOR_FINE_FPR ham.  Margins are candidate minus
    yardstick; ``worst`` is each metric's smallest margin over the slices.
    """
    slices: dict[str, Any] = {}
    for name, theirs in yardstick.items():
        ours = candidate[name]
        fine = theirs["n"] - theirs["n_positive"] >= MIN_HAM_FOR_FINE_FPR
        keys = [k for k in COMPARED if fine or k != "recall_at_fpr_0_1pct"]
        keys = [k for k in keys if ours.get(k) is not None and theirs.get(k) is not None]
        margins = {k: round(ours[k] - theirs[k], 4) for k in keys}
        slices[name] = {"margins": margins, "beats": bool(margins) and min(margins.values()) >= 0 and
                        max(margins.values()) > 0}  # fmt: skip
    worst = {k: min(s["margins"][k] for s in slices.values() if k in s["margins"])
             for k in COMPARED if any(k in s["margins"] for s in slices.values())}  # fmt: skip
    return {"beats_every_slice": all(s["beats"] for s in slices.values()), "slices": slices, "worst": worst}


def shipped_recipe() -> dict[str, Any]:
    """The shipped recipe's settings (``FeatureParams()``), without the paths of its word lists or what only a
    site's own rows use (the cross-source run has none, so site columns change nothing it measures)."""
    return {k: v for k, v in asdict(FeatureParams()).items()
            if k not in ("word_map", "lexicon", "not_brands", "site_columns")}  # fmt: skip


def run_cross_source(
    data_dir: str | Path,
    ablation: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every cross-source slice: the yardstick, ours and the previous recipe (full trainings), the ablation."""
    say = progress or (lambda _m: None)
    data = load_cross_source(data_dir)
    trained = {"ours": FeatureParams(word_map=data.word_map),
               "ours, thresholds from the in-source split": replace(FeatureParams(word_map=data.word_map),
                                                                     cross_source_thresholds=False),
               "previous recipe": replace(LEGACY_PARAMS, word_map=data.word_map)}  # fmt: skip
    table: dict[str, dict[str, Any]] = {"yardstick": {}}
    for piece in data.slices:
        started = time.perf_counter()
        table["yardstick"][piece.name] = _yardstick(data, piece)
        for name, params in trained.items():
            table.setdefault(name, {})[piece.name] = _trained_full(data, piece, params)
        say(f"slice {piece.name}: {time.perf_counter() - started:.0f} s")
    out: dict[str, Any] = {
        "recipe": shipped_recipe(),  # what "ours" was, so a report can be checked against the code that ships
        "reading": reading_fingerprint(),
        "slices": [{"name": s.name, "kind": s.kind, "n": len(s.test),
                    "n_positive": int(data.pooled.labels[s.test].sum())} for s in data.slices],  # fmt: skip
        "table": table,
        "verdicts": {name: verdict(table[name], table["yardstick"]) for name in trained},
    }
    if ablation:
        variants = _ablation(data, ablation_variants(data.word_map), say)
        out["ablation"] = variants
        out["ablation_verdicts"] = {name: verdict(v, table["yardstick"]) for name, v in variants.items()}
    return out


_DECISIONS = ("spam_published", "spam_held", "ham_held", "ham_marked_spam")


def _cell(value: Any, percent: bool = False) -> str:
    """A table cell: 4 decimals, a percentage, or a dash."""
    if value is None:
        return "–"
    return f"{100 * value:.2f} %" if percent else f"{value:.4f}"


def _slice_tables(results: dict[str, Any]) -> list[str]:
    """One table per slice: every recipe's metrics and default decisions."""
    lines = []
    for piece in results["slices"]:
        name = piece["name"]
        lines += ["", f"### {name} ({piece['kind']}: {piece['n']} comments, {piece['n_positive']} spam)", "",
                  "| recipe | ROC-AUC | PR-AUC | best F1 | recall @ 1 % FPR | recall @ 0.1 % FPR | spam published | "
                  "spam held | ham held | ham marked spam |", "|---|" + "---:|" * 9]  # fmt: skip
        for recipe, by_slice in results["table"].items():
            m = by_slice[name]
            cells = [_cell(m.get(k)) for k in ("roc_auc", "pr_auc", "best_f1", "recall_at_fpr_1pct",
                                                "recall_at_fpr_0_1pct")]  # fmt: skip
            cells += [_cell(m.get(k), percent=True) for k in _DECISIONS]
            lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    return lines


def _summary(results: dict[str, Any]) -> list[str]:
    """Which recipes beat the yardstick on every slice, and by how much at the least (the shipped one first)."""
    winners = [(name, found) for name, found in {**results["verdicts"], **results.get("ablation_verdicts", {})}.items()
               if found["beats_every_slice"]]  # fmt: skip
    ours = results["verdicts"]["ours"]
    head = "beats" if ours["beats_every_slice"] else "does NOT beat"
    worst = ", ".join(f"{k} {v:+.4f}" for k, v in ours["worst"].items())
    lines = [f"**Shipped recipe (ours) {head} the yardstick on every slice**; its smallest margins: {worst}. "
             f"Recipes that beat it everywhere in this run: {', '.join(n for n, _ in winners) or 'none'}."]  # fmt: skip
    return lines


def _verdict_lines(name: str, found: dict[str, Any]) -> list[str]:
    """A recipe's verdict against the yardstick, with its margins on every slice."""
    worst = ", ".join(f"{k} {v:+.4f}" for k, v in found["worst"].items())
    head = "**beats the yardstick on every slice**"
    if not found["beats_every_slice"]:
        head = "**does not beat the yardstick on every slice**"
    lines = [f"- {name}: {head}; smallest margins: {worst}."]
    for slice_name, s in found["slices"].items():
        margins = ", ".join(f"{k} {v:+.4f}" for k, v in s["margins"].items())
        lines.append(f"  - {slice_name}: {'wins' if s['beats'] else 'loses'} ({margins})")
    return lines


def _ablation_table(results: dict[str, Any]) -> list[str]:
    """Variants by slice: ROC-AUC / recall at 1 % / recall at 0.1 %, and whether each beats the yardstick."""
    names = [p["name"] for p in results["slices"]]
    lines = ["", "## Ablation on the cross-source slices (spam head; ROC-AUC / recall @ 1 % / recall @ 0.1 % FPR)", "",
             "Each row changes one part of ours and refits it on every slice's training rows; the yardstick's row is "
             "the same run's. A variant beats the yardstick when no compared metric is lower on any slice (recall at "
             f"0.1 % only where a slice has {MIN_HAM_FOR_FINE_FPR} ham).", "",
             "| variant | " + " | ".join(names) + " | beats yardstick everywhere | smallest margins (AUC / R@1 % / "
             "R@0.1 %) |", "|---|" + "---:|" * len(names) + "---|---|"]  # fmt: skip
    rows = {"yardstick": results["table"]["yardstick"], **results["ablation"]}
    for variant, by_slice in rows.items():
        cells = ["/".join(_cell(by_slice[n].get(k)) for k in COMPARED) for n in names]
        found = results["ablation_verdicts"].get(variant)
        beats = "–" if found is None else ("yes" if found["beats_every_slice"] else "no")
        worst = "–" if found is None else " / ".join(f"{v:+.4f}" for v in found["worst"].values())
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {beats} | {worst} |")
    return lines


def cross_source_markdown(results: dict[str, Any]) -> list[str]:
    """The cross-source section of the report: slices, verdicts, ablation."""
    lines = ["## Cross-source slices (sources held out whole)", "",
             "Each slice is scored by models that never saw it: evaluation-only sets by models trained on every "
             "default source, and each default spam source by models trained on the others (the seed set and the "
             "abuse sources always train). The yardstick and ours are trained on the same rows in the same run; ours "
             "and the previous recipe are trained exactly as `model train` trains them, thresholds included, so the "
             "last four columns are their default decisions on the slice."]  # fmt: skip
    lines += ["", *_summary(results)]
    lines += _slice_tables(results)
    lines += ["", "### Verdict", "",
              f"Compared: {', '.join(COMPARED)} (recall at 0.1 % FPR only on slices with {MIN_HAM_FOR_FINE_FPR} ham "
              "or more). Margins are recipe minus yardstick.", ""]  # fmt: skip
    for name, found in results["verdicts"].items():
        lines += _verdict_lines(name, found)
    if "ablation" in results:
        lines += _ablation_table(results)
    return lines
