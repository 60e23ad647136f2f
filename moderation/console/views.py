"""Console pages: login/logout, the queues, stats (server-side SVG), 'help the model', admin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from moderation.console import admin, i18n, queue_view, retraining, site_alerts, stats
from moderation.console.actions import ActionError
from moderation.console.auth import (
    current_account,
    log_in,
    log_out,
    protect,
    require,
    safe_next,
)
from moderation.console.throttle import login_blocked, login_failed, login_succeeded
from moderation.decide.policy import THRESHOLD_NAMES, setting_defaults
from moderation.services import Services, get_services
from moderation.store.db import NulCharacter
from moderation.store.models import Site
from moderation.store.review import (
    QUEUES,
    SORTS,
    FilterError,
    count_matching,
    identical_counts,
    queue_page,
    with_queue,
)
from moderation.store.teaching import SPOT_CHECKS
from moderation.store.users import LANGUAGES, authenticate, set_language

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")
bp.before_request(protect)


@bp.errorhandler(NulCharacter)
def _nul(exc: NulCharacter) -> ResponseReturnValue:
    """Backstop: text with U+0000 that no form check refused is a 400 page that changed nothing, never a 500."""
    return render_template("error.html", message=str(exc)), 400


COUNT_CAP = 1000
"""Queue sizes are counted up to this (shown as '1000+'): an exact count of a huge queue costs a scan."""

REASON_CHOICES = ("policy.uncertain", "policy.abusive_above", "model.spam", "model.abusive", "rule.",
                  "flood.", "moderator.")
"""Reason-code prefixes offered in the filter menu (any code prefix can be typed in the URL)."""


def _services() -> Services:
    """The app's database, Redis and settings."""
    return get_services()


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    """The logged-in account in every template."""
    return {"account": current_account()}


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form; failed attempts slow the account down and lock a caller's address (console.throttle)."""
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    services = _services()
    name = (request.form.get("name") or "")[:64]
    password = request.form.get("password") or ""
    ip = request.remote_addr or "-"
    wait = login_blocked(services, name, ip)
    if wait:
        page = render_template("login.html", next=request.form.get("next", ""), name=name,
                               error=_("Too many failed attempts. Try again in %(n)s seconds.", n=wait))
        return page, 429, {"Retry-After": str(wait)}
    with services.db.session() as session:
        account = authenticate(session, name, password)
    if account is None:
        login_failed(services, name, ip)
        return render_template("login.html", next=request.form.get("next", ""), name=name,
                               error=_("Wrong name or password.")), 401
    login_succeeded(services, name, ip)
    log_in(account)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (POST with the CSRF token, so another site cannot log a moderator out)."""
    log_out()
    return redirect(url_for("console.login"))


def _tab_counts(session: Any, f: Any, cap: int, known: str | None = None) -> dict[str, str]:
    """How many comments each queue holds under the current filters (capped, so it stays cheap).

    A text search scans comment bodies, so its other tabs are not counted (they would scan once each).
    """
    if f.q:
        return {name: "" for name in QUEUES}
    counts = {}
    for name in QUEUES:
        if name == f.queue and known is not None:
            counts[name] = known  # the page has just counted its own queue
            continue
        n, capped = count_matching(session, with_queue(f, name), cap)
        counts[name] = f"{n}+" if capped else str(n)
    return counts


@bp.post("/language")
@require()
def language() -> ResponseReturnValue:
    """The header's language switcher: remembered on the account, then back to the page it was used on."""
    chosen = request.form.get("language", "")
    account = current_account()
    if chosen not in LANGUAGES or account is None:
        return render_template("error.html", message=_("Choose id or en.")), 400
    with _services().db.session() as session:
        set_language(session, account.id, chosen)
    return redirect(safe_next(request.form.get("next")))


@bp.get("/")
@require()
def queue() -> ResponseReturnValue:
    """A queue page (held by default), filtered, sorted, one keyset page at a time."""
    services = _services()
    settings = services.settings
    with services.db.read() as session:
        account = current_account()
        sites = queue_view.site_ids(session, account)
        try:
            f = queue_view.parse_filter(request.args, sites, settings["flags.review_after"], account)
            page = queue_page(session, f, settings["console.page_size"], request.args.get("cursor"), COUNT_CAP,
                              count=not f.q)
        except FilterError as exc:
            return render_template("error.html", message=i18n.store_message(str(exc))), 400
        similar = identical_counts(session, [c for c, _n, _s in page.rows], settings["console.similar_window_hours"])
        zones = queue_view.site_zones(session, settings["console.time_zone"])
        items = [queue_view.item(c, slug, n, similar.get(c.id), zones.get(slug)) for c, slug, n in page.rows]
        counts = _tab_counts(session, f, COUNT_CAP, f"{page.total}+" if page.total_capped else str(page.total))
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    keep: dict[str, Any] = {k: v for k, v in args.items() if k not in ("queue", "sort")}
    tab_urls = {q: url_for("console.queue", **keep, queue=q) for q in QUEUES}
    more: dict[str, Any] = {**args, "cursor": page.next_cursor}
    next_url = url_for("console.queue", **more) if page.next_cursor else None
    return render_template("queue.html", items=items, page=page, f=f, sites=sorted(sites), counts=counts,
                           queues=list(QUEUES), sorts=SORTS, reason_choices=REASON_CHOICES, args=args,
                           tab_urls=tab_urls, next_url=next_url,
                           filter_json={k: v for k, v in args.items() if k != "sort"} | {"queue": f.queue})


@bp.get("/stats")
@require()
def stats_page() -> ResponseReturnValue:
    """Charts (server-side SVG) and the hold-queue figures."""
    days = max(7, min(request.args.get("days", type=int) or 30, 90))
    zone = _stats_zone()
    services = _services()
    data = stats.cached_figures(services, days, zone)
    account = current_account()
    with services.db.read() as session:
        learning = retraining.site_models(session, services.settings,
                                          None if account is None or account.is_admin else account.site_scope)
    return render_template("stats.html", data=data, days=days, charts=stats.CHARTS, time_zone=zone,
                           oldest=i18n.age(data["oldest_held_seconds"]), chart_titles=stats.chart_titles(),
                           learning=learning)


def _stats_zone() -> str:
    """The zone stats days are cut in (queue_view.stats_zone)."""
    services = _services()
    with services.db.read() as session:
        return queue_view.stats_zone(session, current_account(), str(services.settings["console.time_zone"]))


@bp.get("/stats/<name>.svg")
@require()
def stats_chart(name: str) -> ResponseReturnValue:
    """One chart as an SVG image."""
    if name not in stats.CHARTS:
        return "no such chart", 404
    days = max(7, min(request.args.get("days", type=int) or 30, 90))
    return Response(stats.chart(name, stats.cached_figures(_services(), days, _stats_zone())),
                    mimetype="image/svg+xml")


@bp.get("/teach")
@require()
def teach() -> ResponseReturnValue:
    """'Help the model': the comments whose label would teach the model most (it is least sure of them)."""
    with _services().db.read() as session:
        account = current_account()
        scope = None if account is None or account.is_admin else account.site_scope
        items, spot = queue_view.teach_items(session, _services().settings["console.time_zone"], scope, 50,
                                             SPOT_CHECKS)
    return render_template("teach.html", items=items, spot_checks=spot)


@bp.get("/admin")
@require(admin=True)
def admin_page() -> ResponseReturnValue:
    """Sites (thresholds, callback URL, secret rotation, alert recipients) and allow/deny lists."""
    with _services().db.read() as session:
        sites = [admin.site_view(s) for s in session.scalars(select(Site).order_by(Site.slug))]
        ids = queue_view.site_ids(session)
        entries = [(e, slug) for e, slug in admin.list_entries(session, None)]
        for sid in ids.values():
            entries += [(e, slug) for e, slug in admin.list_entries(session, sid, global_too=False)]
    return render_template("admin.html", sites=sites, entries=entries, site_slugs=sorted(ids),
                           default_zone=_services().settings["console.time_zone"], kinds=admin.LIST_KINDS,
                           kind_words=i18n.KIND_WORDS, smtp_set=bool(_services().settings["alerts.smtp_url"]))


@bp.post("/admin/sites/<slug>")
@require(admin=True)
def admin_site(slug: str) -> ResponseReturnValue:
    """Save a site's thresholds and callback URL (all or nothing)."""
    services = _services()
    settings = services.settings
    defaults = setting_defaults(settings)
    fields = (*THRESHOLD_NAMES, "callback_url", "time_zone", "mode")
    try:
        with services.db.session() as session:
            admin.update_site(session, slug, {k: request.form.get(k, "") for k in fields}, defaults,
                              settings["callbacks.block_private"])
        flash(i18n._m("Saved %(site)s.", site=i18n.data(slug)))
    except ActionError as exc:
        flash(_("Not saved: %(error)s", error=str(exc)), "error")
    return redirect(url_for("console.admin_page"))


@bp.post("/admin/sites/<slug>/alerts")
@require(admin=True)
def admin_site_alerts(slug: str) -> ResponseReturnValue:
    """Save a site's own alert recipients (all or nothing); an empty webhook field keeps the one set."""
    services = _services()
    changes: dict[str, Any] = {"alert_emails": site_alerts.split_addresses(request.form.get("alert_emails"))}
    if request.form.get("alert_webhook_url", "").strip():
        changes["alert_webhook_url"] = request.form["alert_webhook_url"]
    elif request.form.get("alert_webhook_remove"):
        changes["alert_webhook_url"] = None
    try:
        with services.db.session() as session:
            admin.update_site(session, slug, changes, setting_defaults(services.settings),
                              services.settings["callbacks.block_private"])
        flash(i18n._m("Saved the alert recipients of %(site)s.", site=i18n.data(slug)))
    except ActionError as exc:
        flash(_("Not saved: %(error)s", error=str(exc)), "error")
    return redirect(url_for("console.admin_page"))


@bp.post("/admin/sites/<slug>/rotate")
@require(admin=True)
def admin_rotate(slug: str) -> ResponseReturnValue:
    """Rotate a site's secret and show the new one once."""
    services = _services()
    try:
        with services.db.session() as session:
            site, secret = admin.rotate_secret(session, slug, services.settings["console.secret_grace_hours"])
            until = admin.site_view(site)["previous_secret_until"]
            zone = site.time_zone
    except ActionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.admin_page"))
    return render_template("secret.html", slug=slug, secret=secret, until=until, time_zone=zone)


@bp.post("/admin/lists")
@require(admin=True)
def admin_add_entry() -> ResponseReturnValue:
    """Add an allow/deny entry (global or one site's)."""
    services = _services()
    try:
        with services.db.session() as session:
            ids = queue_view.site_ids(session)
            slug = request.form.get("site") or None
            if slug is not None and slug not in ids:
                raise ActionError(_("no such site"))
            _entry, new = admin.add_entry(session, ids[slug] if slug else None, request.form.get("action", ""),
                                     request.form.get("kind", ""), request.form.get("value", ""))
        flash(_("Added.") if new else _("Already listed."))
    except ActionError as exc:
        flash(_("Not added: %(error)s", error=str(exc)), "error")
    return redirect(url_for("console.admin_page"))


@bp.post("/admin/lists/<int:entry_id>/delete")
@require(admin=True)
def admin_delete_entry(entry_id: int) -> ResponseReturnValue:
    """Remove an allow/deny entry."""
    with _services().db.session() as session:
        removed = admin.remove_entry(session, entry_id)
    flash(_("Removed.") if removed else _("No such entry."), "message" if removed else "error")
    return redirect(url_for("console.admin_page"))
