"""The model card as the service reads it: a typed view of ``card.json`` (training writes the JSON itself)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from moderation.decide.policy import THRESHOLD_NAMES


@dataclass(frozen=True)
class ModelCard:
    """What a saved model says of itself: its version, checksum, format, thresholds and the reading of text it
    was trained on; ``raw`` keeps everything else card.json holds (metrics, sources, cross-source figures)."""

    version: str
    sha256: str = ""
    format: str = "pickle"
    thresholds: Mapping[str, float] = field(default_factory=dict)
    """Any of THRESHOLD_NAMES (a missing one falls back to the settings)."""
    reading: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], version: str | None = None) -> ModelCard:
        """Read a card.json mapping; ``version`` names it when the card itself does not."""
        found = raw.get("thresholds") or {}
        thresholds = {name: float(found[name]) for name in THRESHOLD_NAMES if found.get(name) is not None}
        return cls(version=str(raw.get("version") or version or "unversioned"), sha256=str(raw.get("sha256") or ""),
                   format=str(raw.get("format") or "pickle"), thresholds=MappingProxyType(thresholds),
                   reading=raw.get("reading") or None, raw=MappingProxyType(dict(raw)))

    def as_dict(self) -> dict[str, Any]:
        """The card as card.json holds it."""
        return dict(self.raw)
