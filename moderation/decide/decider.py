"""The decider: one object per process owning the rules' lists, the flood detector, the scorer cache and the
threshold layering, used alike by the workers (queued comments) and the Akismet API (comment-check).

Domain code: it reads list entries through the function it is given (``Services`` passes the store's), so
nothing here knows SQL, Flask or RQ.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from redis import Redis

from moderation.decide.flood import FloodDetector
from moderation.decide.held_cap import HeldCap
from moderation.decide.pipeline import Item, decide
from moderation.decide.policy import THRESHOLD_NAMES, Thresholds
from moderation.decide.rules import CommentInput, Lists, config_lists, lists_from_rows
from moderation.decide.states import Decision
from moderation.decide.trust import Standing, Standings, TrustPolicy, author_key
from moderation.model.scoring import ModelScorer
from moderation.model.site_models import SiteScorers
from moderation.settings import Settings

ListRows = Callable[[Collection[int]], Iterable[Mapping[str, Any]]]
"""Reads the database's list entries for some sites: the global ones (site_id None) and theirs."""


@dataclass(frozen=True)
class Candidate:
    """One comment to decide: who it is, what it says, and its site's own thresholds."""

    comment_id: str
    site_id: int
    comment: CommentInput
    site_thresholds: Mapping[str, float | None]


def site_thresholds(site: Any) -> dict[str, float | None]:
    """A site row's own threshold columns (None: take the model card's, then the settings')."""
    return {name: getattr(site, name) for name in THRESHOLD_NAMES}


class Decider:
    """Rules → model → flood → policy (→ the held-share cap) for a batch, the same way wherever a comment is decided."""

    def __init__(self, settings: Settings, redis: Redis, list_rows: ListRows,
                 email_hash: Callable[[str], str | None] | None = None, standings: Standings | None = None) -> None:
        """Built once per process (the model is loaded on the first batch, never here)."""
        self.settings = settings
        self.list_rows = list_rows
        self.email_hash = email_hash
        self.standings = standings
        self.trust = TrustPolicy(settings["trust.min_approved"], settings["trust.hold_first"])
        self.scorers = SiteScorers(settings.model_dir)
        self.flood = FloodDetector.from_settings(redis, settings)
        self.held_cap = HeldCap(redis, settings["queue.prefix"], settings["policy.max_held_share"])

    def decide(self, candidates: Sequence[Candidate], live: bool = True) -> list[Decision]:
        """One decision per candidate, in order: a rule that fires wins, the rest go to the model in one call
        per model (a site that learnt its own is scored by its own, every other site by the shared one).

        ``live`` False (a backlog re-scored): old comments are neither counted towards floods nor towards the
        held-share cap, which both measure what arrives now."""
        if not candidates:
            return []
        lists = self.lists({c.site_id for c in candidates})
        standing = self.standing_of(candidates)
        groups: dict[int, tuple[ModelScorer, list[int]]] = {}
        for i, c in enumerate(candidates):
            scorer = self.scorers.get(c.site_id)
            groups.setdefault(id(scorer), (scorer, []))[1].append(i)
        out: list[Decision | None] = [None] * len(candidates)
        for scorer, picked in groups.values():
            card = scorer.card.thresholds
            items = [Item(candidates[i].comment_id, candidates[i].site_id, self._hashed(candidates[i].comment),
                          lists[candidates[i].site_id], self.thresholds(candidates[i].site_thresholds, card),
                          standing[i])
                     for i in picked]  # fmt: skip
            for i, decision in zip(picked, decide(items, scorer, self.flood if live else None, self.trust),
                                   strict=True):  # fmt: skip
                out[i] = decision
        made = [d for d in out if d is not None]
        return self.held_cap.settle(made) if live else made

    def standing_of(self, candidates: Sequence[Candidate]) -> list[Standing | None]:
        """Each candidate's author standing on its site (None: anonymous, or trust is off: nothing is read)."""
        keys = [author_key(c.comment.author_user_id, c.comment.author_email) for c in candidates]
        if not self.trust.active or self.standings is None:
            return [None] * len(candidates)
        pairs = {(c.site_id, k) for c, k in zip(candidates, keys, strict=True) if k is not None}
        known = self.standings(pairs) if pairs else {}
        return [None if k is None else known.get((c.site_id, k), Standing())
                for c, k in zip(candidates, keys, strict=True)]

    def _hashed(self, comment: CommentInput) -> CommentInput:
        """The comment with its e-mail's keyed hash, so hashed list entries (an erased person's) still match."""
        if self.email_hash is None or not comment.author_email:
            return comment
        return replace(comment, author_email_hash=self.email_hash(comment.author_email))

    def thresholds(self, own: Mapping[str, float | None], card: Mapping[str, float] | None) -> Thresholds:
        """The site's own values, then the model card's, then the settings'."""
        return Thresholds.for_site(own, card, self.settings)

    def lists(self, site_ids: Collection[int]) -> dict[int, Lists]:
        """Each site's lists: config/ files, then global database entries, then its own (read fresh every batch)."""
        rows = list(self.list_rows(site_ids))
        base = config_lists(self.settings["lists.dir"]).merged(lists_from_rows(r for r in rows if r["site_id"] is None))
        return {sid: base.merged(lists_from_rows(r for r in rows if r["site_id"] == sid)) for sid in site_ids}
