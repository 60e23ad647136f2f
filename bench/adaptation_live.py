"""A new site as the service lives it: retraining checks all through its life, each comment decided by the model in
force when it arrived (prints figures, asserts nothing).

    nice .venv/bin/python bench/adaptation_live.py [DATA_DIR] [--budget 500] [--out docs/model/adaptation-live.md]

``bench/adaptation.py`` takes one snapshot: N actions on a site's early comments, one retraining, the model then
measured on every later comment. The service does not stop there: its cron looks for new labels every
``retrain.interval`` and retrains a site once ``retrain.min_new_labels`` arrived, so a campaign that starts later
is learnt once its moderators have marked some of it. This script plays that, on the same two sites:

- the site's comments arrive in order; CHECKS retraining checks are spread evenly over its life;
- its moderators act on every comment the model in force held and on every published spam readers report, in
  arrival order, until BUDGET actions in all (then they stop: the budget is the issue's "at most 500");
- in a third row, at the end of each stretch they also spot-check SPOT_CHECKS of the model's spam marks, as the
  console's "help the model" page offers them (lowest spam score first, one per campaign): confirming a spam or
  restoring a ham is a label, so a good model's gate still has the site's spam to judge on;
- at each check, with ``retrain.min_new_labels`` new labels, the service's own split, training (``site_params``)
  and gate run; a promoted candidate decides every comment from then on.

As in ``adaptation.py``, every comment published and not reported by a check counts as weak ham; the service
reads only the newest ten per explicit label, and only after ``retrain.implicit_after``.

Figures are over the site's later comments (after the early stretch ``adaptation.py`` learns from), each decided
by the model in force then: spam published, ham held, ham marked spam, and the shares of the later comments each
model decided. No recall at 1 % FPR: the scores come from several models and rank nothing together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from adaptation import (  # the same sites, training and labels as the snapshot bench
    HOLDOUT,
    ROOT,
    WEIGHT,
    Run,
    Site,
    _label,
    _p,
    teach_page,
)

sys.path.insert(0, str(ROOT))

from moderation.model.scoring import ModelScorer  # noqa: E402
from moderation.store.labels import SiteLabel  # noqa: E402
from training.site_retrain import MIN_HELD_OUT, site_sources, split_by_time  # noqa: E402

BUDGET = 500
"""Moderator actions in all, over the site's life."""

CHECKS = 24
"""Retraining checks spread over a site's comments (the cron's interval, in the site's traffic)."""

SPOT_CHECKS = 5
"""Spam marks the moderators spot-check at the end of each stretch (the console offers ten), in the third row."""

MIN_NEW_LABELS = 50
"""The service's default retrain.min_new_labels."""


class Life:
    """One site's comments in arrival order, the model in force, and the moderators' labels so far."""

    def __init__(self, run: Run, shared: ModelScorer, site: Site, budget: int) -> None:
        """Start with the shared model deciding and no labels."""
        self.run, self.site, self.budget = run, site, budget
        self.model = shared
        self.p = _p(shared, site.texts)  # the model in force's score of every comment still to come
        n = len(site.texts)
        self.published, self.held = np.zeros(n, bool), np.zeros(n, bool)
        self.by = np.empty(n, dtype=object)  # which model decided each comment
        self.given: dict[int, int] = {}
        self.through = -1  # the newest label the last retraining saw
        self.log: list[str] = []

    def arrive(self, start: int, end: int) -> None:
        """Comments START..END arrive: the model in force decides, the moderators act (within the budget)."""
        th = self.model.thresholds
        p = self.p[start:end]
        self.by[start:end] = self.model.version
        self.published[start:end] = p < th["approve_below"]
        self.held[start:end] = (p >= th["approve_below"]) & (p <= th["spam_above"])
        acted = self.held[start:end] | (self.published[start:end] & (self.site.y[start:end] == 1))
        for i in np.flatnonzero(acted) + start:
            if len(self.given) >= self.budget:
                break
            self.given[int(i)] = int(i)

    def spot_check(self, start: int, end: int, k: int) -> None:
        """At the end of a stretch, the moderators confirm or restore K of its spam marks as the console's spot-check
        offers them (lowest spam score first, one per campaign, unlabelled), within the budget."""
        marked = sorted((i for i in range(start, end) if not (self.published[i] or self.held[i])),
                        key=lambda i: self.p[i])
        room = min(k, self.budget - len(self.given))
        self.given |= dict.fromkeys(teach_page(self.site, marked, room, self.given), end - 1)

    def labels(self, end: int) -> list[SiteLabel]:
        """The site's labels by comment END: the moderators', then what was published and nobody reported."""
        implicit = [i for i in range(end) if self.published[i] and self.site.y[i] == 0 and i not in self.given]
        return [_label(self.site, i, at, "moderator") for i, at in sorted(self.given.items(), key=lambda ia: ia[1])] + [
            _label(self.site, i, i, "implicit") for i in implicit]  # fmt: skip

    def check(self, end: int) -> None:
        """A retraining check after comment END: the service's split, training and gate; promote or not."""
        new = sum(1 for i in self.given if i > self.through)
        if new < MIN_NEW_LABELS:
            return
        rows = split_by_time(self.labels(end), HOLDOUT)
        spam = rows.counts()["recent_spam"]
        if min(spam, len(rows.recent) - spam) < MIN_HELD_OUT:
            self.log.append(f"after comment {end}: {len(self.given)} actions, skipped (the held-out labels hold "
                            f"{spam} spam and {len(rows.recent) - spam} ham)")  # fmt: skip
            return
        self.through = max(self.given)
        name = f"{self.site.name}-live-{end}"
        candidate, seconds = self.run.train(site_sources(1, rows, WEIGHT), name, self.run.site_params)
        verdict = self.run.judge(candidate, self.model, self.site, rows)
        self.log.append(f"after comment {end}: {len(self.given)} actions, retrained in {seconds:.0f} s, "
                        + ("promoted" if verdict["promote"] else f"refused ({verdict['why']})"))  # fmt: skip
        if verdict["promote"]:
            self.model = candidate
            if end < len(self.site.texts):
                self.p[end:] = _p(candidate, self.site.texts[end:])

    def figures(self) -> dict[str, Any]:
        """The later comments as they were decided."""
        later = slice(self.site.early, None)
        y, pub, held = self.site.y[later], self.published[later], self.held[later]
        marked = ~pub & ~held
        spam, ham = y == 1, y == 0
        versions, counts = np.unique(self.by[later].astype(str), return_counts=True)
        return {"spam_published": float(pub[spam].mean()), "ham_held": float(held[ham].mean()),
                "ham_marked_spam": float(marked[ham].mean()), "spam_held": float(held[spam].mean()),
                "actions": len(self.given), "decided_by": dict(zip(versions.tolist(), counts.tolist(), strict=True))}


def live(run: Run, shared: ModelScorer, site: Site, budget: int, spot: int = 0) -> tuple[dict[str, Any], list[str]]:
    """Play one site's life (SPOT spot-checks per stretch); its figures on the later comments and the retraining
    log."""
    life = Life(run, shared, site, budget)
    bounds = np.linspace(0, len(site.texts), CHECKS + 1).astype(int)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        life.arrive(int(start), int(end))
        life.spot_check(int(start), int(end), spot)
        life.check(int(end))
    return life.figures(), life.log


def main() -> None:
    """Play both sites and print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--spot-checks", type=int, default=SPOT_CHECKS, help="per stretch; 0 leaves the row out")
    parser.add_argument("--out", default=str(ROOT / "docs" / "model" / "adaptation-live.md"))
    args = parser.parse_args()
    run = Run(Path(args.data))
    shared, _ = run.train([], "shared")
    lines = ["| site | retraining | actions | spam published | ham held | ham marked spam | spam held | "
             "later comments decided by |", "|" + " --- |" * 8]
    logs = []
    for site in run.sites:
        for label, b, spot in (("never (the shared model)", 0, 0),
                               (f"every {MIN_NEW_LABELS} new labels", args.budget, 0),
                               (f"every {MIN_NEW_LABELS} new labels, {args.spot_checks} spot-checks a stretch",
                                args.budget, args.spot_checks)):  # fmt: skip
            if b and spot and not args.spot_checks:
                continue
            found, log = live(run, shared, site, b, spot) if b else (_shared_only(run, shared, site, args.budget), [])
            logs += [f"- {site.name}{' (spot-checks)' if spot else ''}: {line}" for line in log]
            lines.append(f"| {site.name} | {label} | {found['actions']} | {100 * found['spam_published']:.1f} % | "
                         f"{100 * found['ham_held']:.1f} % | {100 * found['ham_marked_spam']:.2f} % | "
                         f"{100 * found['spam_held']:.1f} % | {_decided(found['decided_by'])} |")  # fmt: skip
            print(lines[-1], flush=True)
    text = ("## A site's life, retrained as the service does (`bench/adaptation_live.py`)\n\n" + "\n".join(lines)
            + "\n\n### Retraining checks\n\n" + "\n".join(logs) + "\n")  # fmt: skip
    print("\n" + text)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


def _shared_only(run: Run, shared: ModelScorer, site: Site, budget: int) -> dict[str, Any]:
    """The same life with no retraining: the shared model decides everything (the moderators' actions counted)."""
    life = Life(run, shared, site, budget)
    life.arrive(0, len(site.texts))
    return life.figures()


def _decided(by: dict[str, int]) -> str:
    """Which models decided the later comments, with their shares."""
    total = sum(by.values())
    return ", ".join(f"{v} {100 * n / total:.0f} %" for v, n in sorted(by.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    main()
