"""The ``moderation`` command: one click group; every subcommand calls a library function."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from moderation.backlog_cli import export, rescore
from moderation.cli_session import command_session
from moderation.logs import configure_logging
from moderation.report_cli import report
from moderation.settings import SETTINGS, Settings, load_settings, shown
from moderation.users_cli import users


class _Group(click.Group):
    """Loads the ops `model` group from training/ only when it is asked for (web and workers never import it)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "model"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "model":
            from training.cli import model

            return model
        return super().get_command(ctx, name)


def _settings(ctx: click.Context) -> Settings:
    """The settings the group loaded (with any option overrides)."""
    return ctx.ensure_object(dict)["settings"]  # type: ignore[no-any-return]


@click.group(cls=_Group)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Self-hosted comment moderation: intake, scoring workers, callbacks and ops tools."""
    settings = load_settings()
    configure_logging(settings["log_level"])
    ctx.ensure_object(dict)["settings"] = settings


@main.command()
@click.option("--host", default=None, help="Bind address (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port (default: serve.port).")
@click.option("--workers", type=int, default=None, help="RQ worker processes (default: serve.workers).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """All-in-one: embedded Redis (if no URL), web, workers and the sweeper, supervised."""
    import os

    from moderation.serve import NotServable, Supervisor, prepare

    overrides: dict[str, Any] = {}
    if host:
        overrides["serve.host"] = os.environ["MODERATION_SERVE_HOST"] = host
    if port:
        overrides["serve.port"] = os.environ["MODERATION_SERVE_PORT"] = str(port)
    settings = _settings(ctx).with_overrides(overrides)
    try:
        prepare(settings)
    except NotServable as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(Supervisor(settings, workers or settings["serve.workers"]).run())


@main.command()
@click.option("--host", default=None, help="Bind address (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port (default: serve.port).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """The web app alone (gunicorn); run as many as you like behind a load balancer."""
    from moderation.web import run_web

    run_web(_settings(ctx), host, port)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", default=None, help="Worker name shown by RQ.")
@click.pass_context
def worker(ctx: click.Context, burst: bool, name: str | None) -> None:
    """One RQ worker on the service's queues (run many, on many machines)."""
    from workers.worker import run_worker

    run_worker(_settings(ctx), burst=burst, name=name)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the retrain queue is empty.")
@click.pass_context
def retrainer(ctx: click.Context, burst: bool) -> None:
    """The retraining worker (retrain queue only, low CPU priority); `serve` starts one when retrain.enabled."""
    from workers.worker import run_retrainer

    run_retrainer(_settings(ctx), burst=burst)


@main.command()
@click.pass_context
def cron(ctx: click.Context) -> None:
    """The periodic sweeper (RQ cron scheduler)."""
    from workers.worker import run_cron

    run_cron(_settings(ctx))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply Alembic migrations to the configured database."""
    from moderation.store.migrate import upgrade

    upgrade(_settings(ctx)["database_url"], revision)
    click.echo(f"database at {revision}")


@main.group()
def sites() -> None:
    """News sites that post comments."""


@sites.command("add")
@click.argument("slug")
@click.option("--callback-url", default=None, help="Where decisions are POSTed.")
@click.option("--time-zone", default=None,
              help="IANA zone the console shows this site's times in (default: the console.time_zone setting).")
@click.option("--mode", type=click.Choice(["enforce", "shadow"]), default="enforce", show_default=True,
              help="shadow: a trial beside the site's own filter (it never applies our decisions).")
@click.pass_context
def sites_add(ctx: click.Context, slug: str, callback_url: str | None, time_zone: str | None, mode: str) -> None:
    """Register a site; prints its secret and API key once, as JSON."""
    from moderation.delivery.posting import url_problem
    from moderation.store.sites import BadTimeZone, SiteExists, create_site, valid_zone

    settings = _settings(ctx)
    problem = url_problem(callback_url, settings["callbacks.block_private"]) if callback_url else None
    if problem:
        raise click.ClickException(problem)
    try:
        zone = valid_zone(time_zone) if time_zone is not None else None
    except BadTimeZone as exc:
        raise click.ClickException(str(exc)) from None
    with command_session(settings, SiteExists) as session:
        site = create_site(session, slug, callback_url, zone, mode)
        out = {"site": site.slug, "secret": site.secret, "api_key": site.api_key, "callback_url": site.callback_url,
               "time_zone": site.time_zone or settings["console.time_zone"], "mode": site.mode}
    click.echo(json.dumps(out))


@sites.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def sites_list(ctx: click.Context, as_json: bool) -> None:
    """Registered sites (secrets are never printed here)."""
    from moderation.store.sites import list_sites

    settings = _settings(ctx)
    with command_session(settings) as session:
        rows = [{"site": s.slug, "callback_url": s.callback_url, "created_at": s.created_at.isoformat(),
                 "time_zone": s.time_zone or settings["console.time_zone"], "mode": s.mode}
                for s in list_sites(session)]  # fmt: skip
    for row in rows:
        click.echo(json.dumps(row) if as_json else f"{row['site']:<24} {row['mode']:<8} {row['callback_url'] or '-'}")


@sites.command("mode")
@click.argument("slug")
@click.argument("mode", type=click.Choice(["enforce", "shadow"]))
@click.pass_context
def sites_mode(ctx: click.Context, slug: str, mode: str) -> None:
    """Put a site in enforce mode (it applies our decisions) or shadow mode (a trial: it only watches them)."""
    from moderation.store.sites import set_mode

    settings = _settings(ctx)
    with command_session(settings, LookupError) as session:
        out = {"site": slug, "mode": set_mode(session, slug, mode).mode}
    click.echo(json.dumps(out))


@sites.command("time-zone")
@click.argument("slug")
@click.argument("zone")
@click.pass_context
def sites_time_zone(ctx: click.Context, slug: str, zone: str) -> None:
    """The IANA zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura...) the console shows a site's times in."""
    from moderation.store.sites import BadTimeZone, set_time_zone

    settings = _settings(ctx)
    with command_session(settings, LookupError, BadTimeZone) as session:
        site = set_time_zone(session, slug, zone)
        out = {"site": site.slug, "time_zone": site.time_zone}
    click.echo(json.dumps(out))


@sites.command("alerts")
@click.argument("slug")
@click.option("--email", "emails", multiple=True, help="An address that gets this site's alert digests (repeat it).")
@click.option("--no-email", is_flag=True, help="Remove the site's alert addresses.")
@click.option("--webhook", default=None, help="A chat webhook URL for this site's alerts ('' removes it).")
@click.pass_context
def sites_alerts(ctx: click.Context, slug: str, emails: tuple[str, ...], no_email: bool, webhook: str | None) -> None:
    """A site's own alert recipients (they get its held queue only): shows them, the webhook masked; options replace
    them, all checked before anything changes."""
    from moderation.console.actions import ActionError
    from moderation.console.admin import update_site
    from moderation.console.site_alerts import view
    from moderation.decide.policy import setting_defaults

    changes = ({"alert_emails": list(emails) or None} if emails or no_email else {}) | (
        {"alert_webhook_url": webhook} if webhook is not None else {})
    settings = _settings(ctx)
    with command_session(settings, ActionError) as session:  # the admin page's and the API's one write path
        site = update_site(session, slug, changes, setting_defaults(settings), settings["callbacks.block_private"])
        out = {"site": site.slug, **view(site)}
    click.echo(json.dumps(out))


@sites.command("rotate-secret")
@click.argument("slug")
@click.option("--grace-hours", type=float, default=24.0, show_default=True,
              help="How long the old secret keeps verifying (0: at once).")
@click.pass_context
def sites_rotate_secret(ctx: click.Context, slug: str, grace_hours: float) -> None:
    """Give a site a new signing secret; prints it once, as JSON. Both verify during the grace window."""
    from datetime import timedelta

    from moderation.store.sites import rotate_secret

    settings = _settings(ctx)
    with command_session(settings, LookupError, ValueError, OverflowError) as session:
        site = rotate_secret(session, slug, timedelta(hours=grace_hours))
        until = site.previous_secret_until.isoformat() if site.previous_secret_until else None
        out = {"site": site.slug, "secret": site.secret, "previous_secret_valid_until": until}
    click.echo(json.dumps(out))


@sites.command("rotate-key")
@click.argument("slug")
@click.pass_context
def sites_rotate_key(ctx: click.Context, slug: str) -> None:
    """Give a site a new Akismet-compatible API key; prints it once, as JSON. The old key stops working."""
    from moderation.store.sites import rotate_api_key

    settings = _settings(ctx)
    with command_session(settings, LookupError) as session:
        out = {"site": slug, "api_key": rotate_api_key(session, slug).api_key}
    click.echo(json.dumps(out))


@main.group()
def privacy() -> None:
    """Commenters' personal data."""


@privacy.command("purge")
@click.option("--email", required=True, help="Erase every comment written under this address.")
@click.pass_context
def privacy_purge(ctx: click.Context, email: str) -> None:
    """Erase one person's comments (content and personal fields) and training labels, on their request."""
    from moderation.privacy import purge_email
    from moderation.store.db import Database

    settings = _settings(ctx)
    try:
        erasure = purge_email(Database(settings["database_url"]), settings, email)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"comments": erasure.comments, "labels": erasure.labels, "request": erasure.email_hash}))


@privacy.command("pseudonymize")
@click.pass_context
def privacy_pseudonymize(ctx: click.Context) -> None:
    """Run the retention job now: hash IPs and e-mails older than privacy.retain_days."""
    from moderation.privacy import pseudonymize_expired
    from moderation.store.db import Database

    settings = _settings(ctx)
    click.echo(json.dumps({"pseudonymized": pseudonymize_expired(Database(settings["database_url"]), settings)}))


@main.group()
def callbacks() -> None:
    """Callback deliveries to sites."""


@callbacks.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default="failed", show_default=True)
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def callbacks_list(ctx: click.Context, status: str, limit: int) -> None:
    """Deliveries of one status, newest first, one JSON object per line."""
    from moderation.store.callbacks import list_deliveries

    with command_session(_settings(ctx)) as session:
        for d, slug in list_deliveries(session, status, limit):
            click.echo(json.dumps({"id": d.id, "site": slug, "comment_id": d.comment_id, "event": d.event,
                                   "status": d.status, "attempts": d.attempts, "last_status_code": d.last_status_code,
                                   "last_error": d.last_error, "created_at": d.created_at.isoformat()}))


@callbacks.command("retry")
@click.argument("delivery_ids", nargs=-1, type=int)
@click.pass_context
def callbacks_retry(ctx: click.Context, delivery_ids: tuple[int, ...]) -> None:
    """Send failed deliveries again (all of them, or the ids given)."""
    from workers.context import WorkerContext, install
    from workers.jobs import retry_failed_callbacks

    install(WorkerContext(_settings(ctx)))
    ids = retry_failed_callbacks(list(delivery_ids) or None)
    click.echo(json.dumps({"requeued": ids}))


@main.group()
def alerts() -> None:
    """Alerts to moderators about the held queue (the cron job sends them; see README 'Alerts')."""


@alerts.command("check")
@click.option("--test", is_flag=True, help="Send the queue's digest now, whatever the thresholds and interval.")
@click.pass_context
def alerts_check(ctx: click.Context, test: bool) -> None:
    """Run the alert check once, as the cron job does; prints what each channel did (a site's own as 'site:SLUG
    email' / 'site:SLUG webhook')."""
    from moderation.alerts.check import run_alerts
    from moderation.services import Services

    outcome = run_alerts(Services(_settings(ctx)), test=test)
    click.echo(json.dumps(outcome or {"alerts": "no channel set (alerts.smtp_url + alerts.email_to, "
                                                "alerts.webhook_url, or a site's own recipients)"}))
    if "failed" in outcome.values():
        sys.exit(1)


@main.command("settings")
@click.option("--markdown", is_flag=True, help="The README's settings table.")
@click.pass_context
def settings_cmd(ctx: click.Context, markdown: bool) -> None:
    """Every setting with its current value (or the documentation table)."""
    if markdown:
        click.echo(settings_markdown())
        return
    values = _settings(ctx)
    for s in SETTINGS:
        click.echo(f"{s.name} = {shown(s.name, values[s.name])}")


def settings_markdown() -> str:
    """The settings table in Markdown, generated from the one table."""
    lines = ["| setting | environment variable | default | what it does |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | `{s.env_var}` | `{json.dumps(s.default)}` | {s.help} |")
    return "\n".join(lines)


main.add_command(users)
main.add_command(export)
main.add_command(rescore)
main.add_command(report)

if __name__ == "__main__":
    main()
