"""The walk of a batch of comments: rules (cheap) → scorer (one model call) → policy (thresholds) → trust.

Pure domain code: the worker job loads rows and applies the decisions; the
Akismet-compatible API can call the very same function in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from moderation.decide.flood import FloodDetector, raise_score
from moderation.decide.policy import Thresholds, status_for
from moderation.decide.rules import CommentInput, Lists, check
from moderation.decide.states import Decision, Status
from moderation.decide.trust import Standing, TrustPolicy
from moderation.model.scoring import Scorer
from moderation.reading.features import CommentDoc


@dataclass(frozen=True)
class Item:
    """One comment to decide, with the site's lists and thresholds."""

    comment_id: str
    site_id: int
    comment: CommentInput
    lists: Lists
    thresholds: Thresholds
    standing: Standing | None = None
    """The author's standing on the site (None: anonymous, or trust is off)."""


def _doc(comment: CommentInput) -> CommentDoc:
    """What the model reads of a comment: its text and author fields (the e-mail only for its domain)."""
    return CommentDoc(comment.content, comment.author_name or "", comment.author_url or "", comment.author_email or "")


def decide(items: Sequence[Item], scorer: Scorer, flood: FloodDetector | None = None,
           trust: TrustPolicy | None = None) -> list[Decision]:
    """Decide every item: a rule that fires wins, the rest go to the model in one batch (raised by a flood),
    then the author's standing may approve a trusted author's uncertain comment or hold a newcomer's."""
    # Every item counts towards a flood (rule-decided spam is part of a campaign too); only model scores move.
    counts = flood.record([(i.comment_id, i.site_id, i.comment.content) for i in items]) if flood else []
    decisions: dict[int, Decision] = {}
    to_model: list[int] = []
    for index, item in enumerate(items):
        verdict = check(item.comment, item.lists)
        if verdict is None:
            to_model.append(index)
        else:
            status, reason = verdict
            decisions[index] = Decision(item.comment_id, item.site_id, status, "rule", [reason])
    if to_model:
        scores = scorer.score([_doc(items[i].comment) for i in to_model])
        for index, score in zip(to_model, scores, strict=True):
            item = items[index]
            flood_reason = None
            if flood is not None:
                score.spam, flood_reason = raise_score(score.spam, counts[index], flood.threshold)
            status, policy_reasons = status_for(score.spam, score.abusive, item.thresholds)
            decision = Decision(
                item.comment_id, item.site_id, Status(status), "model",
                reasons=policy_reasons + ([flood_reason] if flood_reason else []) + list(score.reasons),
                spam=score.spam, abusive=score.abusive, model_version=scorer.version,
            )
            decisions[index] = trust.apply(decision, item.standing) if trust is not None else decision
    return [decisions[i] for i in range(len(items))]
