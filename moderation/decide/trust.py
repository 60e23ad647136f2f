"""Trust that is earned: an author's standing on one site, and how it moves a model decision.

Domain code: the standing is computed by the store (``moderation.store.trust``) and handed in through a
function, the way the decider gets its list rows; nothing here knows SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from moderation.decide.states import Decision, Status

TRUSTED = "trust.trusted"
NEWCOMER = "trust.newcomer"


def author_key(user_id: str | None, email: str | None) -> str | None:
    """Whom standing is kept under: the site's user id when it sends one, else the e-mail (None: anonymous)."""
    if user_id and user_id.strip():
        return f"user:{user_id.strip()}"
    if email and email.strip():
        return f"email:{email.strip().lower()}"
    return None


@dataclass(frozen=True)
class Standing:
    """What one author earned on one site: approved and spam comments in the window, and ever decided."""

    approved: int = 0
    spam: int = 0
    decided: int = 0
    revoked: bool = False
    """A moderator took their trust away (the latest trust event is a revoke)."""

    def trusted(self, min_approved: int) -> bool:
        """Enough approved comments, no spam in the window, and not revoked (min_approved 0: nobody is)."""
        return min_approved > 0 and not self.revoked and self.spam == 0 and self.approved >= min_approved

    @property
    def newcomer(self) -> bool:
        """No earlier comment of theirs on this site was ever decided."""
        return self.decided == 0


Standings = Callable[[Collection[tuple[int, str]]], Mapping[tuple[int, str], Standing]]
"""Reads the standing of (site id, author key) pairs; pairs with no history may be left out."""


@dataclass(frozen=True)
class TrustPolicy:
    """The trust settings: approved comments needed (0: trust is off) and whether newcomers are held first."""

    min_approved: int
    hold_first: bool

    @property
    def active(self) -> bool:
        """Whether standing can change anything (else it is not even read)."""
        return self.min_approved > 0 or self.hold_first

    def apply(self, decision: Decision, standing: Standing | None) -> Decision:
        """The model's decision as the author's standing moves it.

        A trusted author's uncertain hold is approved; spam above ``spam_above`` stays spam, and an abusive hold
        stays held (trust is earned on spam, not on tone). A newcomer's would-be approval is held for a moderator
        when ``hold_first`` is on. Rule decisions (allow/deny lists) are never moved.
        """
        if standing is None or decision.actor != "model":
            return decision
        first_code = decision.reasons[0]["code"] if decision.reasons else ""
        if decision.status == Status.HELD and first_code == "policy.uncertain" and standing.trusted(self.min_approved):
            why = {"code": TRUSTED, "detail": f"{standing.approved} approved, no spam in the window"}
            return replace(decision, status=Status.APPROVED, reasons=[why, *decision.reasons])
        if decision.status == Status.APPROVED and self.hold_first and standing.newcomer:
            why = {"code": NEWCOMER, "detail": "the author's first comment on this site"}
            return replace(decision, status=Status.HELD, reasons=[why, *decision.reasons])
        return decision
