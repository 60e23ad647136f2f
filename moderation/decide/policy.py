"""Thresholds that turn scores into a status; knows nothing of Flask, RQ or SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moderation.decide.states import Status

THRESHOLD_NAMES = ("approve_below", "spam_above", "abusive_above")
"""The three thresholds, as the settings (``policy.*``), a site's columns and a model card name them."""


@dataclass(frozen=True)
class Thresholds:
    """Spam below ``approve_below`` is approved, above ``spam_above`` is spam; abusive above its bound is held."""

    approve_below: float
    spam_above: float
    abusive_above: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.approve_below <= self.spam_above <= 1.0:
            raise ValueError("thresholds need 0 <= approve_below <= spam_above <= 1")

    @classmethod
    def layered(cls, *layers: Mapping[str, Any] | None) -> Thresholds:
        """The first non-empty value of each threshold across layers (site → model card → settings)."""
        picked: dict[str, float] = {}
        for name in THRESHOLD_NAMES:
            for layer in layers:
                value = (layer or {}).get(name)
                if value is not None:
                    picked[name] = float(value)
                    break
        return cls(**picked)

    @classmethod
    def for_site(cls, site: Mapping[str, Any], card: Mapping[str, float] | None, settings: Any) -> Thresholds:
        """A site's thresholds: its own columns, then the model card's, then the settings' (the decider's order)."""
        return cls.layered(site, card, setting_defaults(settings))


def setting_defaults(settings: Any) -> dict[str, float]:
    """The thresholds the settings give (``policy.*``): what a site without its own values gets."""
    return {name: settings[f"policy.{name}"] for name in THRESHOLD_NAMES}


def status_for(spam: float, abusive: float, thresholds: Thresholds) -> tuple[Status, list[dict[str, Any]]]:
    """Map the model's scores to a status and the policy reasons behind it."""
    if spam > thresholds.spam_above:
        return Status.SPAM, [{"code": "policy.spam_above", "detail": f"spam {spam:.3f} > {thresholds.spam_above:.3f}"}]
    if abusive > thresholds.abusive_above:
        return Status.HELD, [{"code": "policy.abusive_above",
                              "detail": f"abusive {abusive:.3f} > {thresholds.abusive_above:.3f}"}]
    if spam >= thresholds.approve_below:
        return Status.HELD, [{"code": "policy.uncertain",
                              "detail": f"spam {spam:.3f} between {thresholds.approve_below:.3f} and "
                                        f"{thresholds.spam_above:.3f}"}]
    return Status.APPROVED, [{"code": "policy.approve_below",
                              "detail": f"spam {spam:.3f} < {thresholds.approve_below:.3f}"}]
