"""``moderation report``: reports read from the database (``report shadow``: a shadow-mode trial's figures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from moderation.settings import Settings


def printable(text: str) -> str:
    """Comment text safe for a terminal: control, format and separator characters shown as escapes, on one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _since(value: str | None) -> datetime | None:
    """--since as an aware datetime (naive is UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("an ISO-8601 date or time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render_text(report: dict[str, Any]) -> str:
    """The report as a person reads it (examples escaped)."""
    share = "-" if report["agreement"] is None else f"{report['agreement']:.1%}"
    lines = [f"shadow report for {report['site']}" + (f" since {report['since']}" if report["since"] else ""),
             f"  compared {report['compared']} comments with the site's own verdicts; agreement {share}",
             *(f"  {name.replace('_', ' '):<24} {n}" for name, n in report["counts"].items()),
             f"  {'without their verdict':<24} {report['without_verdict']}",
             "  ours \\ theirs: " + "; ".join(f"{o} -> " + ", ".join(f"{t} {n}" for t, n in sorted(row.items()))
                                            for o, row in sorted(report["matrix"].items()))]
    for name, examples in report["examples"].items():
        if examples:
            lines.append(f"{name.replace('_', ' ')}:")
            lines += [f"  [{e['external_id']}] ours {e['ours']}, theirs {e['theirs']}, spam {e['spam']}: "
                      f"{printable(e['content'])[:160]}" for e in examples]
    return "\n".join(printable(line) for line in lines)


@click.group()
def report() -> None:
    """Reports."""


@report.command("shadow")
@click.option("--site", "slug", required=True, help="The site's slug.")
@click.option("--since", default=None, help="Only comments received since (ISO-8601, UTC when naive).")
@click.option("--examples", type=click.IntRange(0, 100), default=5, show_default=True, help="Examples per kind.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object (non-ASCII escaped, so no text can steer a terminal).")
@click.pass_context
def report_shadow(ctx: click.Context, slug: str, since: str | None, examples: int, as_json: bool) -> None:
    """Our decisions beside a shadow-mode site's own verdicts: agreement, what we would have caught or held."""
    from moderation.store.db import Database
    from moderation.store.shadow import shadow_report
    from moderation.store.sites import site_by_slug

    settings: Settings = ctx.ensure_object(dict)["settings"]
    moment = _since(since)
    with Database(settings["database_url"]).session() as session:
        site = site_by_slug(session, slug)
        if site is None:
            raise click.ClickException(f"no site {slug!r}")
        out = shadow_report(session, site.id, site.slug, moment, examples).as_dict()
    click.echo(json.dumps(out) if as_json else render_text(out))
