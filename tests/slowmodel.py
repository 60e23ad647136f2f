"""A model that takes its time, so a test can kill a worker in the middle of scoring."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import scipy.sparse as sp

from moderation.model.estimator import ModerationModel


class SlowModel(ModerationModel):
    """The seed model, but every feature transform (and every scoring call) first sleeps for a minute."""

    def features(self, texts: Sequence[str]) -> dict[str, sp.csr_matrix]:
        """Sleep, then transform as usual."""
        time.sleep(60)
        return super().features(texts)

    def rows(self, texts: Sequence[Any]) -> dict[str, Any]:
        """Sleep, then build scoring rows as usual (the scorer's fast path does not call features)."""
        time.sleep(60)
        return super().rows(texts)

    @classmethod
    def wrapping(cls, model: ModerationModel) -> SlowModel:
        """The same fitted pipelines, in a slow model."""
        slow: Any = cls.__new__(cls)
        slow.__setstate__(model.__getstate__())
        return slow  # type: ignore[no-any-return]
