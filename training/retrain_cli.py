"""``moderation model retrain``: each site's own model from its moderators, and the runs ``model list`` shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from moderation.model.registry import active_version
from moderation.model.site_models import SITES_DIR, retraining_runs
from moderation.settings import Settings

__all__ = ["echo_site_runs", "retrain_cmd"]


def _run_line(entry: dict[str, Any]) -> str:
    """One run as a line: when, what happened, to which version, and why."""
    retrain = entry.get("retrain") or {}
    site = retrain.get("site", {})
    figures = f"recent R@1%FPR {site['candidate'].get('recall')} over {site.get('n')} labels; " if site else ""
    return f"    {entry['at']}  {entry['action']:<9} {entry.get('version') or '(shared model)'}  {figures}" \
           f"{retrain.get('why', '')}"  # fmt: skip


def echo_site_runs(model_dir: Path, site: str | None) -> None:
    """After the shared listing, each site's own active model and its latest runs (or, for one site, its runs)."""
    found = sorted(p for p in (model_dir / SITES_DIR).glob("*") if p.is_dir())
    roots = [(site, model_dir)] if site else [(f"site id {p.name}", p) for p in found]
    for name, root in roots:
        runs = retraining_runs(root)
        if not runs and site is None:
            continue
        click.echo(f"{name}: own model {active_version(root) or 'none (the shared model scores it)'}")
        for entry in runs:
            click.echo(_run_line(entry))


@click.command("retrain")
@click.option("--site", "sites", multiple=True, help="Site slug (repeatable). Default: every site with labels.")
@click.option("--force", is_flag=True, help="Train even when fewer than retrain.min_new_labels new labels arrived "
              "(the candidate is still judged; the gate is never skipped).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site.")
def retrain_cmd(sites: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Train a candidate per site from its moderators' labels; promote it only when it is better on the site's
    most recent labels (held out by time), not worse on the evaluation sets, and not reversing their decisions."""
    from moderation.settings import load_settings
    from training.site_retrain import run_retraining

    settings = load_settings()
    ids = _site_ids(settings, sites) if sites else None
    for result in run_retraining(settings, ids, force=force):
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
            continue
        retrain = result.get("retrain", result)
        click.echo(f"site {retrain['site_id']}: {result['action']} {result.get('version') or ''} - {retrain['why']}")


def _site_ids(settings: Settings, slugs: tuple[str, ...]) -> list[int]:
    """Site ids of the slugs given (an unknown slug is an error, and nothing is trained)."""
    from moderation.store.db import Database
    from moderation.store.sites import site_by_slug

    db = Database(settings["database_url"], settings["database.sqlite_synchronous"])
    try:
        with db.session() as session:
            found = {slug: site_by_slug(session, slug) for slug in slugs}
    finally:
        db.dispose()
    missing = [slug for slug, row in found.items() if row is None]
    if missing:
        raise click.ClickException(f"no site {', '.join(map(repr, missing))}")
    return [row.id for row in found.values() if row is not None]

