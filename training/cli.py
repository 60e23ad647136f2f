"""The ``model`` command group: train, list, evaluate, score, promote, rollback, suggest, crossval, ensure."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from moderation.model.registry import (
    ModelIntegrityError,
    ModelNotFound,
    active_version,
    list_models,
    read_card,
    save_model,
)
from moderation.model.scoring import ModelScorer, load_scorer
from moderation.reading.fingerprint import CURRENT, STALE, reading_status
from training.csv_scoring import count_rows, evaluate_csv, score_csv
from training.promotion import GateRefused, gated_promote, record_activation, rollback
from training.train import TRAIN_STEPS, train_model

__all__ = ["ensure_model", "model"]

log = logging.getLogger(__name__)


def _settings() -> tuple[Path, list[str]]:
    """Return (model_dir, default training sources) from the service settings."""
    from moderation.settings import load_settings

    s = load_settings()
    return Path(s["model_dir"]), [str(p) for p in s["training_data"]]


def _policy_defaults() -> dict[str, Any]:
    """The settings' thresholds (used where the model card names none)."""
    from moderation.decide.policy import setting_defaults
    from moderation.settings import load_settings

    return dict(setting_defaults(load_settings()))


def _database() -> Any:
    """The service database named by the settings."""
    from moderation.settings import load_settings
    from moderation.store.db import Database

    s = load_settings()
    return Database(s["database_url"], s["database.sqlite_synchronous"])


def _decision_sources() -> list[Any]:
    """Human labels from the database, as training sources."""
    from training.feedback import decision_sources

    db = _database()
    try:
        with db.session() as session:
            return decision_sources(session)
    finally:
        db.dispose()


def _scorer(version: str | None) -> ModelScorer:
    """Load VERSION (default: the active model) or fail with a clear message."""
    model_dir, _ = _settings()
    try:
        return load_scorer(model_dir, version)
    except (ModelNotFound, ModelIntegrityError) as exc:
        raise click.ClickException(str(exc)) from None


def ensure_model(model_dir: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]]) -> str:
    """Train and activate a model only when none is active; return the active version."""
    current = active_version(model_dir)
    if current is not None:
        return current
    held_out: dict[str, Any] = {}
    model, card = train_model(sources, held_out_scores=held_out)
    version = save_model(model, card, model_dir, activate=True)
    record_activation(model_dir, version, None)
    _report(model_dir, version, card, held_out)
    return version


def _report(model_dir: str | os.PathLike[str], version: str, card: dict[str, Any], held_out: dict[str, Any]) -> None:
    """Write the version's report (curves, confusion, calibration); a plotting failure never loses the model."""
    from training.report import write_report

    try:
        write_report(Path(model_dir) / version, {**card, "version": version}, held_out)
    except Exception:  # noqa: BLE001 - the model is saved; the report is a convenience
        log.exception("could not write the report of %s", version)


def _summary(card: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a card, for listings and train output."""
    m = card.get("metrics", {})
    spam, abusive = m.get("spam", {}), m.get("abusive", {})
    return {
        "version": card.get("version"),
        "created_at": card.get("created_at"),
        "active": card.get("active", False),
        "data_fingerprint": (card.get("data_fingerprint") or "")[:12],
        "spam_roc_auc": spam.get("roc_auc"),
        "spam_pr_auc": spam.get("pr_auc"),
        "spam_recall_at_fpr_1pct": spam.get("recall_at_fpr_1pct"),
        "abusive_roc_auc": abusive.get("roc_auc"),
        # what a new site will see: the sources held out whole, averaged (absent on older cards)
        "cross_source": card.get("cross_source", {}).get("rates", {}).get("macro"),
        "thresholds_from": card.get("thresholds_from", "in-source held-out split"),
        "sources": [s["name"] for s in card.get("sources", [])],
        "reading": reading_status(card.get("reading")),  # stale: trained on an older reading of text, retrain
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
    help="CSV, JSONL or WordPress WXR (.xml) file, or a folder laid out like shared/data (repeatable). "
    "Default: settings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (version, metrics, ...).")
@click.option("--allow-noncommercial", is_flag=True, help="Also use sources whose licence forbids commercial use.")
@click.option(
    "--activate/--no-activate",
    default=None,
    help="Make the new model active (default: only when no model is active yet).",
)
@click.option("--seed", default=0, show_default=True, help="Random seed of the held-out split.")
@click.option("--include-decisions", is_flag=True,
              help="Add moderator decisions and Akismet reports from the database (their labels win).")
def train_cmd(data: tuple[Path, ...], as_json: bool, allow_noncommercial: bool,
              activate: bool | None, seed: int, include_decisions: bool) -> None:  # fmt: skip
    """Train a new model version and save it in the model registry."""
    model_dir, defaults = _settings()
    sources = list(data) or defaults
    extra = _decision_sources() if include_decisions else []
    held_out: dict[str, Any] = {}
    steps = (*TRAIN_STEPS, "saving and writing the report")
    with click.progressbar(length=len(steps), label="training", file=sys.stderr, show_eta=False,
                           item_show_func=lambda name: name) as bar:  # fmt: skip
        step = _step_callback(bar)
        try:
            fitted, card = train_model(sources, allow_noncommercial=allow_noncommercial, seed=seed, extra=extra,
                                       held_out_scores=held_out, progress=step)  # fmt: skip
        except (ValueError, PermissionError, UnicodeDecodeError) as exc:  # bad training files: say why, save nothing
            raise click.ClickException(str(exc)) from None
        step(steps[-1])
        version, activate = _save(model_dir, fitted, card, held_out, activate)
        bar.update(1)
    if as_json:
        click.echo(json.dumps({**card, "version": version, "active": activate, "model_dir": str(model_dir)},
                              ensure_ascii=False))  # fmt: skip
        return
    spam, abusive = card["metrics"]["spam"], card["metrics"]["abusive"]
    click.echo(f"saved {version}{' (active)' if activate else ''} in {model_dir}")
    click.echo(f"spam:    ROC-AUC {spam['roc_auc']}  PR-AUC {spam['pr_auc']}  "
               f"P/R at {spam['threshold']}: {spam['precision']}/{spam['recall']}  "
               f"recall@FPR1% {spam['recall_at_fpr_1pct']}")  # fmt: skip
    click.echo(f"abusive: ROC-AUC {abusive['roc_auc']}  PR-AUC {abusive['pr_auc']}  "
               f"P/R at {abusive['threshold']}: {abusive['precision']}/{abusive['recall']}")  # fmt: skip
    click.echo(f"thresholds: {card['thresholds']}, from {card['thresholds_from']}  ({card['training_seconds']} s)")
    rates = card.get("cross_source", {}).get("rates", {})
    for name, m in rates.items():
        click.echo(f"  {'average' if name == 'macro' else name}: ROC-AUC {m['roc_auc']}  "
                   + _cross_source_text(m).replace("held-out sources: ", ""))  # fmt: skip


def _save(model_dir: Path, fitted: Any, card: dict[str, Any], held_out: dict[str, Any],
          activate: bool | None) -> tuple[str, bool]:  # fmt: skip
    """Save the version (active when asked, or when none is yet) with its report; (version, active)."""
    previous = active_version(model_dir)
    if activate is None:
        activate = previous is None
    version = save_model(fitted, card, model_dir, activate=activate)
    if activate:  # the same audit line as `promote`, so rollback and the history see it
        record_activation(model_dir, version, previous)
    _report(model_dir, version, card, held_out)
    return version, activate


def _step_callback(bar: Any) -> Callable[[str], None]:
    """A progress callback that shows the step now running and counts the finished ones on the bar."""
    begun: list[str] = []

    def step(name: str) -> None:
        bar.update(1 if begun else 0, name)
        begun.append(name)

    return step


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


def _registry(site: str | None) -> Path:
    """The shared registry, or with a site slug that site's own (MODEL_DIR/sites/<id>)."""
    model_dir, _ = _settings()
    if site is None:
        return model_dir
    from moderation.model.site_models import site_model_dir
    from moderation.store.sites import site_by_slug

    db = _database()
    try:
        with db.session() as session:
            found = site_by_slug(session, site)
            if found is None:
                raise click.ClickException(f"no site {site!r}")
            return site_model_dir(model_dir, found.id)
    finally:
        db.dispose()


SITE_OPTION = click.option("--site", default=None, help="A site's own registry (its slug) instead of the shared one.")


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of cards.")
@SITE_OPTION
def list_cmd(as_json: bool, site: str | None) -> None:
    """List saved model versions (oldest first); * marks the active one; then each site's own model and runs."""
    model_dir = _registry(site)
    cards = list_models(model_dir)
    if as_json:
        click.echo(json.dumps([_summary(c) | {"thresholds": c.get("thresholds")} for c in cards]))
        return
    if not cards:
        click.echo(f"no models in {model_dir}", err=True)
    for card in cards:
        s = _summary(card)
        mark = "*" if s["active"] else " "
        click.echo(f"{mark} {s['version']}  {s['created_at']}  data {s['data_fingerprint']}  "
                   f"spam AUC {s['spam_roc_auc']} R@1%FPR {s['spam_recall_at_fpr_1pct']}  "
                   f"abusive AUC {s['abusive_roc_auc']}  {_cross_source_text(s['cross_source'])}"
                   f"sources: {', '.join(s['sources'])}"
                   + ("" if s["reading"] == CURRENT else f"  reading of text: {s['reading']}"))  # fmt: skip
    from training.retrain_cli import echo_site_runs

    echo_site_runs(model_dir, site)


def _cross_source_text(rates: dict[str, Any] | None) -> str:
    """'held-out sources: spam published 3.8 %, ham held 2.9 %, ham marked spam 0.44 %  ' (or '' without them)."""
    if not rates:
        return ""
    return (f"held-out sources: R@1%FPR {rates['recall_at_fpr_1pct']}, spam published "
            f"{100 * rates['spam_published']:.1f} %, ham held {100 * rates['ham_held']:.1f} %, ham marked spam "
            f"{100 * rates['ham_marked_spam']:.2f} %  ")  # fmt: skip


@model.command("promote")
@click.argument("version")
@click.option("--data", "data", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Labelled evaluation CSV/folder for the gate (repeatable). Default: the cards' held-out figures.")
@click.option("--target-fpr", default=0.01, show_default=True, help="False-positive rate the gate compares at.")
@click.option("--force", is_flag=True, help="Promote even when the gate finds the model worse (audited).")
@SITE_OPTION
def promote_cmd(version: str, data: tuple[Path, ...], target_fpr: float, force: bool, site: str | None) -> None:
    """Make VERSION the active model if it is no worse than the active one (workers switch within seconds)."""
    model_dir = _registry(site)
    try:
        entry = gated_promote(model_dir, version, list(data), target_fpr=target_fpr, force=force)
    except (ModelNotFound, ModelIntegrityError, GateRefused, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _warn_if_stale(model_dir, version)
    click.echo(json.dumps(entry))


def _warn_if_stale(model_dir: Path, version: str) -> None:
    """Tell ops on stderr when the version just made active reads text as an older release did."""
    if reading_status(read_card(model_dir, version).get("reading")) == STALE:
        click.echo(f"warning: {version} was trained on an older reading of text (normalisation, signals or "
                   "word matching); it scores, but retrain it with `moderation model train`", err=True)  # fmt: skip


@model.command("rollback")
@SITE_OPTION
def rollback_cmd(site: str | None) -> None:
    """Promote the version that was active before the current one (audited); a site's first own model rolls
    back to the shared one."""
    model_dir = _registry(site)
    try:
        entry = rollback(model_dir, to_shared=site is not None)
    except (ModelNotFound, ModelIntegrityError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if entry["version"]:
        _warn_if_stale(model_dir, entry["version"])
    click.echo(json.dumps(entry))


@model.command("evaluate")
@click.option("--data", "data", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with text,label (spam/ham) and optional comment fields.")
@click.option("--model", "version", default=None, help="Model version (default: the active one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_cmd(data: Path, version: str | None, as_json: bool) -> None:
    """Score a labelled CSV: precision, recall, F1, FPR (ham held or spam), ROC-AUC, PR-AUC, seconds."""
    scorer = _scorer(version)
    try:
        result = evaluate_csv(scorer, data, _policy_defaults())
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result))
        return
    for key in ("n", "precision", "recall", "f1", "fpr", "roc_auc", "pr_auc", "recall_at_fpr_1pct", "seconds"):
        click.echo(f"{key:>20}: {result[key]}")


@model.command("score")
@click.option("--data", "data", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with a text column (other columns are kept).")
@click.option("--model", "version", default=None, help="Model version (default: the active one).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Output CSV (default: standard output).")
def score_cmd(data: Path, version: str | None, out: Path | None) -> None:
    """Add spam, abusive and decision columns to every row of a CSV (cells safe against formula injection)."""
    scorer = _scorer(version)
    try:
        total = count_rows(data)
        with contextlib.ExitStack() as stack:
            fh = stack.enter_context(out.open("w", encoding="utf-8", newline="")) if out else sys.stdout
            bar = stack.enter_context(click.progressbar(length=total, label="scoring", file=sys.stderr))
            score_csv(scorer, data, fh, _policy_defaults(), progress=bar.update)
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        if out is not None:
            out.unlink(missing_ok=True)  # bad input changes nothing
        raise click.ClickException(str(exc)) from None


@model.command("suggest")
@click.option("--limit", default=20, show_default=True, help="How many comments to list.")
@click.option("--days", default=7, show_default=True, help="How far back 'recent' reaches.")
@click.option("--model", "version", default=None, help="Model version (default: the active one).")
def suggest_cmd(limit: int, days: int, version: str | None) -> None:
    """List unlabelled held/recent comments whose labels would teach the model most (JSON lines)."""
    from training.feedback import suggest

    scorer = _scorer(version)
    db = _database()
    try:
        with db.session() as session:
            rows = suggest(session, scorer, limit=limit, days=days)
    finally:
        db.dispose()
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))


@model.command("crossval")
@click.option("--data", "data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder laid out like shared/data.")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the Markdown tables here (and the figures as .json beside it).")
@click.option("--recipe", "names", multiple=True, help="Only these recipes (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object instead.")
@click.option("--errors", "errors", default=15, show_default=True, type=click.IntRange(min=0),
              help="List this many hardest false positives and negatives of the shipped recipe (0: none).")
@click.option("--cross-source/--no-cross-source", default=True, show_default=True,
              help="Score every source held out whole (evaluation-only sets, leave one source out).")
@click.option("--ablation/--no-ablation", default=True, show_default=True,
              help="Refit ours with one part changed at a time on the cross-source slices.")
def crossval_cmd(data: Path, out: Path | None, names: tuple[str, ...], as_json: bool, errors: int,
                 cross_source: bool, ablation: bool) -> None:  # fmt: skip
    """Our recipe against the plain yardstick: on sources held out whole (how recipes are chosen), then in-source."""
    from training.crossval import run_crossval, to_markdown

    results = run_crossval(data, list(names) or None, progress=lambda m: click.echo(m, err=True), errors=errors,
                           cross_source=cross_source, ablation=ablation)  # fmt: skip
    markdown = to_markdown(results)
    if out is not None:
        out.write_text(markdown, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    click.echo(json.dumps(results) if as_json else markdown)


from training.retrain_cli import retrain_cmd  # noqa: E402 - registers `model retrain` on the group above

model.add_command(retrain_cmd)


def main() -> None:
    """Run the group on its own (``python -m training.cli``)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    model()


if __name__ == "__main__":
    main()
