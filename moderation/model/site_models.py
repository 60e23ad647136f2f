"""Per-site models: where each site's own registry lives, and the scorer that picks a site's model or the shared one.

A site that has learnt from its own moderators gets a registry of its own, laid
out exactly like the shared one (versions, ``ACTIVE``, ``promotions.jsonl``)::

    MODEL_DIR/ACTIVE                     the shared model, for every site without one of its own
    MODEL_DIR/sites/<site id>/ACTIVE     that site's model (trained on public data plus its labels)

Folders are named by the site's id, not its slug: ids never change and are always safe as a path.

A site's model only ever scores that site's comments, so one site's labels cannot
move another site's decisions. Loaded site models are kept in a small LRU so a
service with many sites holds only the busy ones in memory.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from moderation.model.registry import active_version
from moderation.model.scoring import ModelScorer, ScorerCache

__all__ = ["SITES_DIR", "SiteScorers", "read_audit", "retraining_runs", "site_model_dir", "sites_with_models"]

AUDIT_FILE = "promotions.jsonl"
"""Each registry's audit trail of promotions, refusals, rollbacks and retraining runs (one JSON object a line)."""

SITES_DIR = "sites"
"""The folder under MODEL_DIR holding one registry per site."""

LOADED_SITE_MODELS = 8
"""Site models a process keeps loaded at once (least recently used ones are dropped)."""


def site_model_dir(model_dir: str | os.PathLike[str], site_id: int) -> Path:
    """MODEL_DIR/sites/<site id>: the registry of one site's own models."""
    return Path(model_dir) / SITES_DIR / str(int(site_id))


def sites_with_models(model_dir: str | os.PathLike[str]) -> list[int]:
    """Ids of the sites whose registry has an active model."""
    root = Path(model_dir) / SITES_DIR
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and active_version(p))


def read_audit(registry: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every line of a registry's audit trail (shared or a site's), oldest first."""
    path = Path(registry) / AUDIT_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def retraining_runs(site_dir: str | os.PathLike[str], last: int = 3) -> list[dict[str, Any]]:
    """The latest retraining runs and rollbacks in a site's audit trail, newest last."""
    return [e for e in read_audit(site_dir) if e.get("retrain") or e.get("action") == "rollback"][-last:]


class SiteScorers:
    """The shared scorer plus, for each site that has one, its own; ``get(site_id)`` picks."""

    def __init__(self, model_dir: str | os.PathLike[str], check_interval: float = 1.0,
                 loaded: int = LOADED_SITE_MODELS) -> None:  # fmt: skip
        """Remember where to look; nothing is loaded until asked."""
        self.model_dir = Path(model_dir)
        self.check_interval = check_interval
        self.loaded = loaded
        self.shared = ScorerCache(model_dir, check_interval)
        self._sites: OrderedDict[int, ScorerCache] = OrderedDict()
        self._has_own: dict[int, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def get(self, site_id: int | None = None) -> ModelScorer:
        """The site's own active model when it has one, else the shared active model."""
        cache = self._site_cache(site_id) if site_id is not None else None
        return cache.get() if cache is not None else self.shared.get()

    def _site_cache(self, site_id: int) -> ScorerCache | None:
        """The site's scorer cache, or None while it has no active model (checked once per interval)."""
        with self._lock:
            now = time.monotonic()
            checked = self._has_own.get(site_id)
            if checked is None or now - checked[0] >= self.check_interval:
                checked = (now, self._active_in(site_id))
                self._has_own[site_id] = checked
            if not checked[1]:
                self._sites.pop(site_id, None)  # rolled back to the shared model: free the memory
                return None
            cache = self._sites.pop(site_id, None) or ScorerCache(site_model_dir(self.model_dir, site_id),
                                                               self.check_interval)  # fmt: skip
            self._sites[site_id] = cache  # most recently used last
            while len(self._sites) > self.loaded:
                self._sites.popitem(last=False)
            return cache

    def _active_in(self, site_id: int) -> bool:
        """Tell whether the site's registry names an active model."""
        return active_version(site_model_dir(self.model_dir, site_id)) is not None

    def invalidate(self) -> None:
        """Forget every loaded model; the next get() loads the active ones again."""
        self.shared.invalidate()
        with self._lock:
            self._sites.clear()
            self._has_own.clear()
