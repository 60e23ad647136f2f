"""The ``model`` command group: train, list, promote (mounted under ``moderation``)."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from moderation.scoring import ModelIntegrityError, ModelNotFound, active_version
from training.registry import list_models, promote, save_model
from training.train import train_model

__all__ = ["ensure_model", "model"]

log = logging.getLogger(__name__)


def _settings() -> tuple[Path, list[str]]:
    """Return (model_dir, default training sources) from the service settings."""
    from moderation.settings import load_settings

    s = load_settings()
    return Path(s["model_dir"]), [str(p) for p in s["training_data"]]


def ensure_model(model_dir: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]]) -> str:
    """Train and activate a model only when none is active; return the active version."""
    current = active_version(model_dir)
    if current is not None:
        return current
    model, card = train_model(sources)
    return save_model(model, card, model_dir, activate=True)


def _summary(card: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a card, for listings and train output."""
    m = card.get("metrics", {})
    spam, abusive = m.get("spam", {}), m.get("abusive", {})
    return {
        "version": card.get("version"),
        "created_at": card.get("created_at"),
        "active": card.get("active", False),
        "spam_roc_auc": spam.get("roc_auc"),
        "spam_recall_at_fpr_1pct": spam.get("recall_at_fpr_1pct"),
        "abusive_roc_auc": abusive.get("roc_auc"),
        "sources": [s["name"] for s in card.get("sources", [])],
    }


@click.group("model")
def model() -> None:
    """Train, list and promote moderation models."""


@model.command("train")
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSV file or folder laid out like shared/data (repeatable). Default: settings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (version, metrics, ...).")
@click.option("--allow-noncommercial", is_flag=True, help="Also use sources whose licence forbids commercial use.")
@click.option(
    "--activate/--no-activate",
    default=None,
    help="Make the new model active (default: only when no model is active yet).",
)
@click.option("--seed", default=0, show_default=True, help="Random seed of the held-out split.")
def train_cmd(data: tuple[Path, ...], as_json: bool, allow_noncommercial: bool,
              activate: bool | None, seed: int) -> None:  # fmt: skip
    """Train a new model version and save it in the model registry."""
    model_dir, defaults = _settings()
    sources = list(data) or defaults
    fitted, card = train_model(sources, allow_noncommercial=allow_noncommercial, seed=seed)
    if activate is None:
        activate = active_version(model_dir) is None
    version = save_model(fitted, card, model_dir, activate=activate)
    result = {**card, "version": version, "active": activate, "model_dir": str(model_dir)}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    spam, abusive = card["metrics"]["spam"], card["metrics"]["abusive"]
    click.echo(f"saved {version}{' (active)' if activate else ''} in {model_dir}")
    click.echo(f"spam:    ROC-AUC {spam['roc_auc']}  PR-AUC {spam['pr_auc']}  "
               f"P/R at {spam['threshold']}: {spam['precision']}/{spam['recall']}  "
               f"recall@FPR1% {spam['recall_at_fpr_1pct']}")  # fmt: skip
    click.echo(f"abusive: ROC-AUC {abusive['roc_auc']}  PR-AUC {abusive['pr_auc']}  "
               f"P/R at {abusive['threshold']}: {abusive['precision']}/{abusive['recall']}")  # fmt: skip
    click.echo(f"thresholds: {card['thresholds']}  ({card['training_seconds']} s)")


@model.command("ensure")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the active version.")
def ensure_cmd(as_json: bool) -> None:
    """Train and activate a first model from the configured sources, unless one is active."""
    model_dir, defaults = _settings()
    had = active_version(model_dir)
    version = ensure_model(model_dir, defaults)
    if as_json:
        click.echo(json.dumps({"version": version, "trained": had is None, "model_dir": str(model_dir)}))
    else:
        click.echo(f"active: {version}{' (newly trained)' if had is None else ''}")


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of cards.")
def list_cmd(as_json: bool) -> None:
    """List saved model versions (oldest first); * marks the active one."""
    model_dir, _ = _settings()
    cards = list_models(model_dir)
    if as_json:
        click.echo(json.dumps([_summary(c) | {"thresholds": c.get("thresholds")} for c in cards]))
        return
    if not cards:
        click.echo(f"no models in {model_dir}", err=True)
    for card in cards:
        s = _summary(card)
        mark = "*" if s["active"] else " "
        click.echo(f"{mark} {s['version']}  spam AUC {s['spam_roc_auc']}  abusive AUC {s['abusive_roc_auc']}  "
                   f"sources: {', '.join(s['sources'])}")  # fmt: skip


@model.command("promote")
@click.argument("version")
def promote_cmd(version: str) -> None:
    """Make VERSION the active model (workers pick it up within seconds)."""
    model_dir, _ = _settings()
    try:
        promote(model_dir, version)
    except (ModelNotFound, ModelIntegrityError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"active: {version}")


def main() -> None:
    """Run the group on its own (``python -m training.cli``)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    model()


if __name__ == "__main__":
    main()
