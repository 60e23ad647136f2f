"""The stats page's "learning from your moderators" table: each visible site's own model and its latest runs.

Read from the model registry's audit trails (``moderation.model.site_models``); no training code here.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from moderation.model.registry import active_version
from moderation.model.site_models import retraining_runs, site_model_dir
from moderation.settings import Settings
from moderation.store.sites import list_sites

WHY_KEYS = (("poisoning guard", "poisoned"), ("not better", "not_better"), ("worse on the evaluation", "worse_base"),
            ("better on the site", "better"))  # fmt: skip
"""How a run's reason (the trainer's English) maps to a key the console words in the reader's language."""


def _why(text: str) -> str:
    """The key of a run's reason ('' when the console has no words for it)."""
    return next((key for prefix, key in WHY_KEYS if text.startswith(prefix)), "")


def _run(entry: dict[str, Any]) -> dict[str, Any]:
    """One audit line as the page shows it: when, what, the figures on the site's held-out labels, and why."""
    retrain = entry.get("retrain") or {}
    site = retrain.get("site") or {}
    return {"at": entry.get("at"), "action": entry.get("action"), "version": entry.get("version"),
            "n": site.get("n"), "candidate": (site.get("candidate") or {}).get("recall"),
            "current": (site.get("current") or {}).get("recall"),
            "reversals": (site.get("candidate") or {}).get("reversals"), "why": _why(str(retrain.get("why", "")))}


def site_models(session: Session, settings: Settings, scope: Collection[int] | None) -> list[dict[str, Any]]:
    """Sites (those in scope; None: all) with their own model or runs: slug, active version, latest runs."""
    out = []
    for site in list_sites(session):
        if scope is not None and site.id not in scope:
            continue
        folder = site_model_dir(settings.model_dir, site.id)
        runs = retraining_runs(folder)
        if runs or active_version(folder):
            out.append({"slug": site.slug, "version": active_version(folder), "runs": [_run(e) for e in runs]})
    return out
