"""``moderation export`` and ``moderation rescore``: a site's decisions to take away, and its backlog scored again."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import click

from moderation.settings import Settings


def _since(value: str | None) -> datetime | None:
    """--since as an aware datetime (a click usage error when it is not ISO-8601)."""
    from moderation.export import parse_since

    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or date-time", param_hint="--since") from None


def _settings(ctx: click.Context) -> Settings:
    """The settings the main group loaded."""
    return ctx.ensure_object(dict)["settings"]  # type: ignore[no-any-return]


@click.command("export")
@click.option("--site", "slug", required=True, help="The site whose comments are exported (only its own).")
@click.option("--since", default=None, help="Only comments received at this ISO-8601 date/time or later.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
@click.pass_context
def export(ctx: click.Context, slug: str, since: str | None, fmt: str, out: str | None) -> None:
    """One record per comment: ids, status, scores, reasons, model, who decided and when, every later action."""
    from moderation.export import lines, records
    from moderation.store.db import Database
    from moderation.store.sites import site_by_slug

    settings = _settings(ctx)
    moment = _since(since)
    database = Database(settings["database_url"])
    with database.read() as session:
        site = site_by_slug(session, slug)
        if site is None:
            raise click.ClickException(f"no site {slug!r}")
        site_id = site.id
    count = [0]

    def counted() -> Iterator[dict[str, Any]]:
        for rec in records(database, site_id, slug, moment):
            count[0] += 1
            yield rec

    target: IO[str] = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    try:
        for chunk in lines(counted(), fmt):
            target.write(chunk)
    finally:
        if out:
            target.close()
    click.echo(json.dumps({"site": slug, "format": fmt, "out": out or "-", "comments": count[0]}), err=True)


@click.command("rescore")
@click.option("--site", "slug", required=True, help="The site whose backlog is scored again.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["approved", "held", "spam"]),
              help="Only comments in this status (repeatable; default: approved, held and spam).")
@click.option("--since", default=None, help="Only comments received at this ISO-8601 date/time or later.")
@click.option("--apply", "apply_", is_flag=True, help="Make the changes (default: only report them).")
@click.option("--nice", "niceness", type=click.IntRange(0, 19), default=10, show_default=True,
              help="CPU priority lowered by this much, so intake and the workers go first.")
@click.pass_context
def rescore(ctx: click.Context, slug: str, statuses: tuple[str, ...], since: str | None, apply_: bool,
            niceness: int) -> None:
    """Score a site's backlog again with the active model; print what would change (and change it with --apply)."""
    if niceness:
        os.nice(niceness)  # before the model stack is imported and loaded: that costs CPU too
    from moderation.rescore import RESCORABLE
    from moderation.rescore import rescore as run
    from moderation.services import Services

    moment = _since(since)
    try:
        report = run(Services(_settings(ctx)), slug, statuses or RESCORABLE, moment, apply_)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.as_dict(), indent=2))
