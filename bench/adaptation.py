"""How fast a new site's own model learns from its moderators: the adaptation curve (prints figures, asserts nothing).

    nice .venv/bin/python bench/adaptation.py [DATA_DIR] [--out docs/model/adaptation]
    nice .venv/bin/python bench/adaptation.py --dev     # where a site model's recipe (its C) was chosen

Two simulated sites, each from a source the shared model never trained on:

- ``portal``: ``judol_gamblingdetection_eval`` (Indonesian YouTube comments, later campaigns), in file order;
  its first 7,000 comments are the site's early days, the other 4,520 its later comments (the shared model holds
  few of them, so moderators need that long to take a few hundred actions in arrival order). An evaluation-only
  set may play a site here: the throwaway models this script trains are never saved or shipped.
- ``blog``: ``youtube_spam_collection`` (English), by date; the first 600 dated comments are early, the other
  933 later. The shared model here is trained on every default source *except* this one.

For each N, the site's moderators work through its early comments in arrival order as the service would show
them: they approve or mark each comment the shared model held, and mark the published spam readers report,
until N actions; what the model published and nobody reported in that stretch counts as ham (the service's
``retrain.implicit_after``). The service's own retraining code then runs: labels split by time, the newest
20 % held out to judge (more when that holds under 3 spam), a candidate trained with the moderators' labels
weighted, in the site's recipe (``site_params``: its C, ``SITE_C``, and its rows in columns of their own; a
column gives the shared recipe, pooled, on the same rows in the same run), the
gate (better on the held-out labels, not worse on the evaluation sets in the site's languages, the poisoning
guard). The model that scores the site afterwards (the candidate if promoted, else the shared
one) is measured on the site's later comments, which nothing trained on: recall at 1 % ham FPR, spam
published, ham held, ham marked spam, at the model's own thresholds.

"Help the model" order is measured beside arrival order: readers' reports still arrive and are acted on, and
the moderators spend the rest of their N actions on the console's teach page (most uncertain first, one copy
of a campaign per page) instead of the held queue, a tenth of them at the end of each of ten days. "Spot"
order is arrival order with SPOT_SHARE of the N actions on the teach page's spot-check instead (the model's
own spam marks of each day, lowest spam score first, one per campaign). The last
row of each site is the recipe's ceiling there: every early comment labelled, far more than any moderator's
day. The two-site table scores each site's later comments with every model, so it shows that each gains on
its own and what the other site would lose if one model served both.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.model.estimator import SPAM, FeatureParams  # noqa: E402
from moderation.model.scoring import ModelScorer  # noqa: E402
from moderation.reading.features import CommentDoc  # noqa: E402
from moderation.store.labels import SiteLabel  # noqa: E402
from moderation.store.teaching import campaign_shape  # noqa: E402
from training.datasets import LabeledSource, find_word_map, load_eval_sources, load_sources  # noqa: E402
from training.languages import site_languages  # noqa: E402
from training.metrics import decision_rates, recall_at_fpr  # noqa: E402
from training.site_retrain import (  # noqa: E402
    MIN_HELD_OUT,
    SITE_C,
    SiteRows,
    judge,
    site_params,
    site_sources,
    split_by_time,
)
from training.train import _collect, _with_seed, train_heads  # noqa: E402

ACTIONS = (0, 50, 100, 200, 300, 500)
"""Moderator actions per point of the curve."""

WEIGHT, HOLDOUT, MAX_REVERSALS = 5.0, 0.2, 0.1
"""The service's defaults for retrain.moderator_weight, retrain.holdout_share and retrain.max_reversals."""


@dataclass
class Site:
    """A simulated site: its comments in arrival order and where its early days end."""

    name: str
    source: str
    texts: list[str]
    y: np.ndarray
    early: int


def _rows(data: Path, source: str) -> list[dict[str, str]]:
    """A source's rows as its data.csv holds them."""
    with (data / source / "data.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _as_site(name: str, source: str, rows: list[dict[str, str]], early: int) -> Site:
    """Rows in arrival order as a site whose first EARLY comments are its early days."""
    return Site(name, source, [r["text"] for r in rows], np.asarray([r["label"] == "spam" for r in rows], np.int8),
                early)  # fmt: skip


def _site(data: Path, name: str, source: str, early: int, by_date: bool) -> Site:
    """Read one source as a site's traffic."""
    rows = _rows(data, source)
    if by_date:
        rows = sorted((r for r in rows if r.get("date")), key=lambda r: r["date"])
    return _as_site(name, source, rows, early)


def _scorer(model: Any, card: dict[str, Any], version: str) -> ModelScorer:
    """A scorer for a model trained in this run."""
    return ModelScorer(model, {**card, "version": version})


def _p(scorer: ModelScorer, texts: list[str]) -> np.ndarray:
    """Calibrated spam probabilities."""
    docs = [CommentDoc(t) for t in texts]
    return np.concatenate([scorer.model.probabilities(SPAM, scorer.model.features(docs[i : i + 1024])[SPAM])
                           for i in range(0, len(docs), 1024)])  # fmt: skip


DAYS = 10
"""Days the early period is cut into for "help the model" order: each day's teach actions come at its end."""


def _labels(site: Site, p: np.ndarray, th: dict[str, float], n: int, order: str) -> list[SiteLabel]:
    """The site's labels after N moderator actions (explicit, then the unreported approvals they passed); a
    label is dated when it was given (an unreported approval: when its comment arrived)."""
    pe, ye = p[: site.early], site.y[: site.early]
    held = (pe >= th["approve_below"]) & (pe <= th["spam_above"])
    reported = (pe < th["approve_below"]) & (ye == 1)
    given: dict[int, int] = {}  # comment -> the minute its label was given
    if order in ("arrival", "spot"):
        given = {int(i): int(i) for i in np.flatnonzero(held | reported)[: n - int(n * SPOT_SHARE * (order == "spot"))]}
    elif order == "everything":  # the ceiling: every early comment labelled as it arrived
        given = {i: i for i in range(site.early)}
    else:  # readers' reports are acted on as they come; the rest go to the teach page, most uncertain first
        given = {int(i): int(i) for i in np.flatnonzero(reported)[:n]}
        doubt = np.abs(np.log(pe / (1 - pe)))
        for day in range(1, DAYS + 1):
            end = site.early * day // DAYS
            budget = (n - len(given)) // (DAYS - day + 1)
            given |= dict.fromkeys(teach_page(site, np.argsort(doubt[:end], kind="stable"), budget, given), end)
    if order == "spot":
        given = _spot_checks(site, pe, th, n, given)
    reach = max(given) + 1 if given else 0
    implicit = [i for i in range(reach) if pe[i] < th["approve_below"] and ye[i] == 0 and i not in given]
    return [_label(site, i, at, "moderator") for i, at in sorted(given.items())] + [
        _label(site, i, i, "implicit") for i in implicit]  # fmt: skip


SPOT_SHARE = 0.2
"""In "spot" order, the share of the actions spent on the console's spot-check of the model's spam marks."""


def _spot_checks(site: Site, pe: np.ndarray, th: dict[str, float], n: int, given: dict[int, int]) -> dict[int, int]:
    """GIVEN (arrival order) plus N * SPOT_SHARE spot-checks over the stretch it reached, day by day: each day's
    spam marks as the console offers them (lowest spam score first, one per campaign), labelled at its end."""
    spot, reach = int(n * SPOT_SHARE), max(given) + 1 if given else site.early
    for day in range(1, DAYS + 1):
        start, end = reach * (day - 1) // DAYS, reach * day // DAYS
        k = spot * day // DAYS - spot * (day - 1) // DAYS
        marks = [i for i in start + np.argsort(pe[start:end], kind="stable") if pe[i] > th["spam_above"]]
        given = given | dict.fromkeys(teach_page(site, marks, k, given), end - 1)
    return given


def teach_page(site: Site, order: Iterable[int], k: int, given: Container[int]) -> list[int]:
    """The first K comments in ORDER not labelled yet, one per campaign, as the console's teach page offers them."""
    page: dict[str, int] = {}
    for i in order:
        if len(page) >= k:
            break
        if int(i) not in given:
            page.setdefault(campaign_shape(site.texts[i]), int(i))
    return list(page.values())


def _label(site: Site, i: int, minute: int, source: str) -> SiteLabel:
    """One label on comment I, given at MINUTE of the site's life."""
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    return SiteLabel(f"c{i}", site.texts[i], int(site.y[i]), at, source)


def _split(labels: list[SiteLabel]) -> SiteRows:
    """The service's split: the newest HOLDOUT of all the site's labels judge."""
    return split_by_time(labels, HOLDOUT)


def _measure(scorer: ModelScorer, site: Site) -> dict[str, float]:
    """The model on the site's later comments, at its own thresholds."""
    later = slice(site.early, None)
    y, p = site.y[later], _p(scorer, site.texts[later])
    th = scorer.thresholds
    return {"recall_1pct": round(recall_at_fpr(y, p, 0.01), 4)} | decision_rates(y, p, th["approve_below"],
                                                                              th["spam_above"])  # fmt: skip


class Run:
    """The shared model, the sites, and training a site's candidate as the service does."""

    def __init__(self, data: Path) -> None:
        """Load the sources and sites (the shared model is trained per site: without that site's source)."""
        self.data = data
        self.params = FeatureParams(word_map=find_word_map([data]))
        self.site_params = site_params([str(data)])  # a site's candidate: the service's recipe for one
        self.sources = _with_seed(load_sources([data]), False)
        self.eval_sets = [s for s in load_eval_sources(data) if s.kind == "spam"]
        self.sites = [_site(data, "portal", "judol_gamblingdetection_eval", 7000, by_date=False),
                      _site(data, "blog", "youtube_spam_collection", 600, by_date=True)]  # fmt: skip
        self.base_sources = [s for s in self.sources if s.name not in {x.source for x in self.sites}]

    def train(self, extra: list[LabeledSource], version: str, params: FeatureParams | None = None
              ) -> tuple[ModelScorer, float]:  # fmt: skip
        """Train a recipe (the shared one unless given) on the shared sources plus EXTRA; (scorer, seconds)."""
        started = time.perf_counter()
        params = params or self.params
        model, card = train_heads(_collect(self.base_sources + extra), params)
        return _scorer(model, card, version), time.perf_counter() - started

    def judge(self, candidate: ModelScorer, current: ModelScorer, site: Site, rows: SiteRows) -> dict[str, Any]:
        """The service's gate on a site's candidate: its held-out labels, the evaluation sets in its languages."""
        # The site's own source is never its judge's base set: that would be grading on its later comments.
        base = [s for s in self.eval_sets if s.name != site.source]
        languages = site_languages(r.text for r in rows.train + rows.implicit + rows.recent)
        return judge(candidate, current, rows.recent, MAX_REVERSALS, base, languages)

    def point(self, shared: ModelScorer, site: Site, p: np.ndarray, n: int, order: str) -> dict[str, Any]:
        """One point of the curve: N actions, retrain, gate, measure."""
        if n == 0:
            return {"n": 0, "order": order, "gate": "-", "seconds": 0.0, **_measure(shared, site)}
        rows = _split(_labels(site, p, shared.thresholds, n, order))
        spam = rows.counts()["recent_spam"]
        if min(spam, len(rows.recent) - spam) < MIN_HELD_OUT:  # the service's own rule: nothing to judge with
            return {"n": n, "order": order, "labels": rows.counts(), "seconds": 0.0, "model": shared,
                    "gate": f"skipped (the newest labels hold {spam} spam)", **_measure(shared, site)}  # fmt: skip
        candidate, seconds = self.train(site_sources(1, rows, WEIGHT), f"{site.name}-{order}-{n}", self.site_params)
        verdict = self.judge(candidate, shared, site, rows)
        serving = candidate if verdict["promote"] else shared
        refused = "" if verdict["promote"] else _brief(_measure(candidate, site))
        # The shared recipe (pooled, its C) on the same rows, in the same run: the site's recipe's yardstick.
        plain = _measure(self.train(site_sources(1, rows, WEIGHT), f"{site.name}-{order}-{n}-plain")[0], site)
        return {"n": n, "order": order, "labels": rows.counts(), "seconds": round(seconds, 1), "plain": plain,
                "gate": "promoted" if verdict["promote"] else f"refused ({verdict['why']}); the candidate: {refused}",
                "model": serving, **_measure(serving, site)}  # fmt: skip


def _brief(m: dict[str, float]) -> str:
    """A model's figures on a site in one cell."""
    return (f"R@1% {m['recall_1pct']:.3f}, published {100 * m['spam_published']:.1f} %, held "
            f"{100 * m['ham_held']:.1f} %, marked {100 * m['ham_marked_spam']:.2f} %")


def _row(site: str, r: dict[str, Any]) -> str:
    """One markdown row of the curve."""
    plain = r.get("plain")
    same = f"{plain['recall_1pct']:.3f} / {100 * plain['ham_marked_spam']:.2f} %" if plain else "-"
    return (f"| {site} | {r['order']} | {r['n']} | {r['recall_1pct']:.3f} | {100 * r['spam_published']:.1f} % | "
            f"{100 * r['ham_held']:.1f} % | {100 * r['ham_marked_spam']:.2f} % | {r['seconds']} | {same} | "
            f"{r['gate']} |")  # fmt: skip


def _plot(curves: dict[str, list[dict[str, Any]]], out: Path) -> None:
    """The curve as a PNG: actions against recall at 1 % FPR, spam published and ham held, per site."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for (name, points), marker in zip(curves.items(), "osd^", strict=False):
        xs = [p["n"] for p in points]
        axes[0].plot(xs, [p["recall_1pct"] for p in points], marker=marker, label=name)
        axes[1].plot(xs, [100 * p["spam_published"] for p in points], marker=marker, label=name)
        axes[2].plot(xs, [100 * p["ham_held"] for p in points], marker=marker, label=name)
    for ax, title, goal in zip(axes, ("recall at 1 % ham FPR", "spam published (%)", "ham held (%)"),
                               (0.95, 2.0, 3.0), strict=True):  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("moderator actions")
        ax.axhline(goal, color="grey", linestyle="--", linewidth=0.8)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


DEV_SITES = (("judol_youtube_diashitenas", 0), ("judol_youtube_diashitenas", 1), ("sms_spam_collection_en", 0))
"""Training sources (and shuffle seeds) that play a site in ``--dev``, each held out of its shared model: where
the recipe of a site's model is chosen, never on the sites this script reports."""

DEV_C = (0.5, 0.25, 0.125, 0.0625)
"""The classifier's C tried for a site's model in ``--dev`` (0.5 is the shared model's)."""


def _dev_site(data: Path, source: str, seed: int) -> Site:
    """A training source as a site: its videos in a shuffled order with 15 % of their spam kept (about a tenth
    of the comments, a site's share), or its rows shuffled; the first 60 % are its early days."""
    rng = np.random.default_rng(seed)
    rows = _rows(data, source)
    if rows and "video_id" in rows[0]:
        videos = sorted({r["video_id"] for r in rows})
        rng.shuffle(videos)
        order = {v: i for i, v in enumerate(videos)}
        rows = sorted(rows, key=lambda r: order[r["video_id"]])
        rows = [r for r in rows if r["label"] == "ham" or rng.random() < 0.15]
    else:
        rows = [rows[i] for i in rng.permutation(len(rows))]
    return _as_site(f"{source}/{seed}", source, rows, int(len(rows) * 0.6))


DEV_CS = tuple((f"C={c}", "arrival", {"C": c}) for c in DEV_C)
"""``--dev``: a site's model (pooled, as before its own columns) with each C of DEV_C, on the same labels."""

DEV_SPOT = (("arrival", "arrival", {"C": SITE_C}), ("arrival + spot-checks", "spot", {"C": SITE_C}))
"""``--dev-spot``: arrival order against the same number of actions with SPOT_SHARE of them on spot-checks."""

DEV_COLUMNS = (("pooled", "arrival", {"C": SITE_C}),
               ("site columns", "arrival", {"C": SITE_C, "site_columns": True}))  # fmt: skip
"""``--dev-columns``: the site's rows pooled with the public ones against read in columns of their own as well."""

DEV_MODES = {"dev": ("-dev.md", "Where a site model's C was chosen", DEV_CS),
             "dev_spot": ("-dev-spot.md", "Spot-checks on the dev sites", DEV_SPOT),
             "dev_columns": ("-dev-columns.md", "A site's own columns against pooling, on the dev sites", DEV_COLUMNS)}
"""Each dev comparison: the file it writes beside --out, its title, its variants."""


def dev(run: Run, variants: tuple[tuple[str, str, dict[str, Any]], ...] = DEV_CS) -> list[str]:
    """The recipe choice: on each dev site's later comments after 100 and 500 actions, for each variant (a name,
    the moderators' order, the recipe's changes; one order's labels shared by its variants): recall at 1 % FPR,
    then ham marked spam / spam published / ham held at the model's own thresholds."""
    found: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in variants}
    lines = ["| dev site | actions | shared | " + " | ".join(name for name, _, _ in variants) + " |",
             "|" + " --- |" * (3 + len(variants))]
    print("\n".join(lines))
    for source, seed in DEV_SITES:
        site = _dev_site(run.data, source, seed)
        run.base_sources = [s for s in run.sources if s.name != source]
        shared, _ = run.train([], f"shared-without-{source}")
        p = _p(shared, site.texts)
        for n in (100, 500):
            rows = {order: _split(_labels(site, p, shared.thresholds, n, order)) for _, order, _ in variants}
            cells = [_measure(run.train(site_sources(1, rows[order], WEIGHT), f"dev-{name}",
                                        replace(run.params, **recipe))[0], site)
                     for name, order, recipe in variants]  # fmt: skip
            for (name, _, _), m in zip(variants, cells, strict=True):
                found[name].append(m)
            lines.append(f"| {site.name} | {n} | {_measure(shared, site)['recall_1pct']:.3f} | " + " | ".join(
                f"{m['recall_1pct']:.3f} ({_rates(m)})" for m in cells) + " |")  # fmt: skip
            print(lines[-1], flush=True)
    lines.append("| mean | | | " + " | ".join(f"{np.mean([m['recall_1pct'] for m in v]):.4f} ("
                                               + _rates({k: float(np.mean([m[k] for m in v])) for k in v[0]}) + ")"
                                               for v in found.values()) + " |")  # fmt: skip
    lines.append("\n(in brackets: ham marked spam / spam published / ham held, in %, at the model's thresholds)")
    print("\n".join(lines[-2:]))
    return lines


def _rates(m: dict[str, float]) -> str:
    """Ham marked spam / spam published / ham held, in %."""
    return f"{100 * m['ham_marked_spam']:.2f} / {100 * m['spam_published']:.1f} / {100 * m['ham_held']:.1f}"


def main() -> None:
    """Run the curve and the two-site table; print markdown, write the PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "model" / "adaptation"))
    parser.add_argument("--dev", action="store_true", help="only the choice of C, on training sources as sites")
    parser.add_argument("--dev-spot", action="store_true", help="only spot-checks against none, on the dev sites")
    parser.add_argument("--dev-columns", action="store_true", help="only the site's own columns against pooling")
    args = parser.parse_args()
    run = Run(Path(args.data))
    for mode, (suffix, title, variants) in DEV_MODES.items():
        if getattr(args, mode):
            out = Path(args.out).with_name(Path(args.out).name + suffix)
            flag = "--" + mode.replace("_", "-")
            out.write_text(f"## {title} (`bench/adaptation.py {flag}`)\n\n" + "\n".join(dev(run, variants)) + "\n",
                           encoding="utf-8")  # fmt: skip
            print(f"\nwrote {out}")
            return
    shared, seconds = run.train([], "shared")
    print(f"shared model (without the sites' sources): trained in {seconds:.1f} s")
    curves: dict[str, list[dict[str, Any]]] = {}
    lines = ["| site | order | actions | R@1%FPR | spam published | ham held | ham marked spam | retrain s | "
             "the shared recipe on the same rows: R@1%FPR / marked | gate |", "|" + " --- |" * 10]
    final: dict[str, ModelScorer] = {"shared": shared}
    for site in run.sites:
        p = _p(shared, site.texts)
        orders = ("arrival", "uncertain", "spot") if site.name == "portal" else ("arrival",)
        for order in orders:
            points = [run.point(shared, site, p, n, order) for n in ACTIONS if n == 0 or order == "arrival"
                      or n in (100, 300, 500)]  # fmt: skip
            curves[f"{site.name} ({order})"] = points
            lines += [_row(site.name, r) for r in points]
            print(lines[-1], flush=True)
        # The ceiling of the recipe on this site: every early comment labelled, far past any moderator's day.
        lines.append(_row(site.name, run.point(shared, site, p, site.early, "everything")))
        print(lines[-1], flush=True)
        final[site.name] = curves[f"{site.name} (arrival)"][-1].get("model", shared)
    print("\n## The adaptation curve\n\n" + "\n".join(lines))
    table = ["| model | " + " | ".join(f"{s.name}: R@1% / published / held / marked" for s in run.sites) + " |",
             "| --- | " + " | ".join("---" for _ in run.sites) + " |"]
    for name, scorer in final.items():
        cells = [_measure(scorer, s) for s in run.sites]
        table.append(f"| {name} | " + " | ".join(
            f"{c['recall_1pct']:.3f} / {100 * c['spam_published']:.1f} % / {100 * c['ham_held']:.1f} % / "
            f"{100 * c['ham_marked_spam']:.2f} %" for c in cells) + " |")  # fmt: skip
    print("\n## Two sites, every model on each site's later comments\n\n" + "\n".join(table))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _plot(curves, out.with_suffix(".png"))
    out.with_suffix(".md").write_text("## The adaptation curve\n\n" + "\n".join(lines) + "\n\n## Two sites\n\n"
                                      + "\n".join(table) + "\n", encoding="utf-8")  # fmt: skip
    print(f"\nwrote {out.with_suffix('.png')} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
