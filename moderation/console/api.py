"""The review API under /api/v1/review: everything the console does, as JSON, with the console's session login.

Browsers call it, so every state-changing request needs the session's CSRF
token (``X-CSRFToken`` header); site requests elsewhere under /api/v1 are
HMAC-signed and never see this check.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from moderation.api.errors import ApiError
from moderation.api.schemas import PAGE_MAX, has_nul
from moderation.console import admin, i18n, queue_view, stats
from moderation.console.actions import ActionError, NulInText, moderate, undo
from moderation.console.admin import NoSuchSite, NotAllowed
from moderation.console.auth import current_account, protect_api, require
from moderation.decide.policy import setting_defaults
from moderation.decide.states import Status
from moderation.services import Services, get_services
from moderation.store.db import NulCharacter
from moderation.store.models import Site
from moderation.store.review import FilterError, get_comment, identical_counts, matching_ids, queue_page
from moderation.store.teaching import SPOT_CHECKS
from moderation.store.users import LANGUAGES, Account, set_language

bp = Blueprint("review_api", __name__, url_prefix="/api/v1/review")

COUNT_CAP = 1000
"""Queue totals are counted up to this (total_capped tells); a text search is not counted (it would scan twice)."""
bp.before_request(protect_api)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    """Refusals in the contract's error shape."""
    return exc.response()


@bp.errorhandler(ActionError)
@bp.errorhandler(FilterError)
def _bad_request(exc: ValueError) -> Response:
    """A bad filter, cursor or action is a 400 that changed nothing."""
    return ApiError(400, "invalid_request", i18n.store_message(str(exc))).response()


@bp.errorhandler(NulInText)
def _nul_in_body(exc: NulInText) -> Response:
    """Text holding U+0000 in a body field: 422 naming the field, nothing changed."""
    return ApiError(422, "invalid_fields", str(exc), {exc.field: str(exc)}).response()


@bp.errorhandler(NulCharacter)
def _nul_backstop(exc: NulCharacter) -> Response:
    """Backstop for a NUL no check above caught: still a 422 (the transaction was rolled back), never a 500."""
    return ApiError(422, "invalid_fields", str(exc)).response()


@bp.errorhandler(NotAllowed)
def _not_allowed(exc: NotAllowed) -> Response:
    """An action the account's role may not take."""
    return ApiError(403, "forbidden", str(exc)).response()


@bp.errorhandler(NoSuchSite)
def _no_site(exc: NoSuchSite) -> Response:
    """A site slug in the path that names no site."""
    return ApiError(404, "not_found", str(exc)).response()


def _services() -> Services:
    """The app's database, Redis and settings."""
    return get_services()


def _body() -> dict[str, Any]:
    """The JSON object body, or 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("send a JSON object with Content-Type: application/json"))
    return data


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument from ``low`` to ``high`` (absent: ``default``); anything else is a 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_request", _("%(name)s must be a whole number from %(low)s to %(high)s",
                                                 name=name, low=low, high=high))
    return int(raw)


def _account() -> Account:
    """The logged-in account (the decorators have already refused anonymous callers)."""
    account = current_account()
    assert account is not None
    return account


@bp.get("/me")
@require(api=True)
def me() -> ResponseReturnValue:
    """Who is logged in, and the language the console speaks to them."""
    account = _account()
    return jsonify(name=account.name, role=account.role, language=i18n.lang(), language_chosen=account.language)


@bp.patch("/me")
@require(api=True)
def set_me() -> ResponseReturnValue:
    """{"language": "id" | "en" | null}: the console language remembered on the account (null: the browser's)."""
    body = _body()
    chosen = body.get("language")
    if set(body) != {"language"} or (chosen is not None and chosen not in LANGUAGES):
        raise ApiError(400, "invalid_request", _("send {\"language\": \"id\"}, \"en\" or null"))
    with _services().db.session() as session:
        account = set_language(session, _account().id, chosen)
    assert account is not None
    return jsonify(name=account.name, role=account.role, language=chosen or i18n.select_locale(),
                   language_chosen=chosen)


@bp.get("/queue")
@require(api=True)
def queue() -> ResponseReturnValue:
    """One page of a queue: ?queue=held|reported|spam|approved|rejected &site &reason &lang &post &q &sort &cursor."""
    services = _services()
    settings = services.settings
    limit = _whole_number("limit", min(settings["console.page_size"], PAGE_MAX), 1, PAGE_MAX)
    with services.db.read() as session:
        account = _account()
        f = queue_view.parse_filter(request.args, queue_view.site_ids(session, account),
                                    settings["flags.review_after"], account)
        page = queue_page(session, f, limit, request.args.get("cursor"), COUNT_CAP, count=not f.q)
        similar = identical_counts(session, [c for c, _n, _s in page.rows], settings["console.similar_window_hours"])
        zones = queue_view.site_zones(session, settings["console.time_zone"])
        items = [queue_view.item(c, slug, n, similar.get(c.id), zones.get(slug)) for c, slug, n in page.rows]
    return jsonify(items=items, next_cursor=page.next_cursor, total=page.total, total_capped=page.total_capped,
                   queue=f.queue, sort=f.order)


@bp.get("/comments/<comment_id>")
@require(api=True)
def comment(comment_id: str) -> ResponseReturnValue:
    """One comment with its reasons, audit trail, reports, author history and identical-comment count."""
    services = _services()
    if has_nul(comment_id):  # no id holds one (and PostgreSQL could not compare it)
        raise ApiError(404, "not_found", _("no such comment"))
    with services.db.read() as session:
        found = get_comment(session, comment_id)
        if found is None or not _account().may_act_on(found[0].site_id):
            raise ApiError(404, "not_found", _("no such comment"))
        c, slug = found
        similar = identical_counts(session, [c], services.settings["console.similar_window_hours"])[c.id]
        zone = queue_view.site_zones(session, services.settings["console.time_zone"]).get(slug)
        from moderation.console.trust_shadow import standing_view  # it imports this module's blueprint

        return jsonify({**queue_view.detail(session, c, slug, similar, zone),
                        "standing": standing_view(session, c, services.settings)})


@bp.post("/actions")
@require(api=True)
def actions() -> ResponseReturnValue:
    """Approve/spam/reject/keep: {"action", "ids": [...], "expected": status} or {"action", "filter": {...}}."""
    body, services = _body(), _services()
    action = body.get("action")
    if not isinstance(action, str):
        raise ApiError(400, "invalid_request", _("action is required"))
    if "filter" in body:
        if not isinstance(body["filter"], dict):
            raise ApiError(400, "invalid_request", _("filter must be an object"))
        with services.db.session() as session:
            account = _account()
            sites = queue_view.site_ids(session, account)
            f = queue_view.parse_filter(body["filter"], sites, services.settings["flags.review_after"], account)
            ids = matching_ids(session, f, services.settings["console.bulk_max"])
        expected = f.status
    else:
        ids = body.get("ids") or []
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "invalid_request", _("ids must be a non-empty list of comment ids (or send a filter)"))
        if len(ids) > services.settings["console.bulk_max"]:
            raise ApiError(400, "invalid_request", _("at most %(n)s ids", n=services.settings["console.bulk_max"]))
        try:
            expected = Status(body.get("expected", ""))
        except ValueError:
            raise ApiError(400, "invalid_request", _("expected must be the status the comments were seen in")) from None
    note, reject_as = body.get("note"), body.get("reject_as", "other")
    if note is not None and not isinstance(note, str):
        raise ApiError(400, "invalid_request", _("note must be text"))
    if not isinstance(reject_as, str):
        raise ApiError(400, "invalid_request", _("reject_as must be 'abusive' or 'other'"))
    outcome = moderate(services, _account(), ids, action, expected, reject_as or "other", note or None)
    return jsonify(outcome.as_dict())


@bp.post("/undo")
@require(api=True)
def undo_action() -> ResponseReturnValue:
    """Undo this moderator's last action (or {"action_id": N})."""
    body = request.get_json(silent=True) or {}
    action_id = body.get("action_id") if isinstance(body, dict) else None
    if action_id is not None and (not isinstance(action_id, int) or isinstance(action_id, bool)):
        raise ApiError(400, "invalid_request", _("action_id must be a whole number"))
    try:
        outcome = undo(_services(), _account(), action_id)
    except ActionError as exc:
        raise ApiError(409, "cannot_undo", str(exc)) from None
    return jsonify(outcome.as_dict())


@bp.post("/authors")
@require(api=True)
def authors() -> ResponseReturnValue:
    """Ban or trust an author: {"site", "verdict": ban|trust, "kind": email|ip|name, "value", "apply_to_queue"}."""
    body, services = _body(), _services()
    with services.db.session() as session:
        sites = queue_view.site_ids(session, _account())
    site = body.get("site")
    if not isinstance(site, str) or site not in sites:
        raise ApiError(400, "invalid_request", _("site must be a registered site you moderate"))
    entry, outcome = admin.author_action(services, _account(), sites[site], str(body.get("verdict")),
                                         str(body.get("kind")), str(body.get("value") or ""),
                                         bool(body.get("apply_to_queue")))
    return jsonify(entry={"id": entry.id, "action": entry.action, "kind": entry.kind, "value": entry.value}
                   if entry else None, outcome=outcome.as_dict() if outcome else None)


@bp.get("/suggestions")
@require(api=True)
def suggested() -> ResponseReturnValue:
    """The comments most worth labelling (model least sure), and the model's spam marks to spot-check."""
    limit = _whole_number("limit", 50, 1, PAGE_MAX)
    spot = _whole_number("spot_checks", SPOT_CHECKS, 0, PAGE_MAX)
    with _services().db.read() as session:
        account = _account()
        scope = None if account.is_admin else account.site_scope
        items, checks = queue_view.teach_items(session, _services().settings["console.time_zone"], scope, limit, spot)
    return jsonify(items=items, spot_checks=checks)


@bp.get("/stats")
@require(api=True)
def stats_json() -> ResponseReturnValue:
    """The stats page's figures as JSON (?days=7..90)."""
    days = _whole_number("days", 30, 7, 90)
    services = _services()
    with services.db.read() as session:
        zone = queue_view.stats_zone(session, _account(), str(services.settings["console.time_zone"]))
        return jsonify(stats.figures(session, days, zone))


@bp.get("/sites")
@require(admin=True, api=True)
def sites() -> ResponseReturnValue:
    """Every site's thresholds and callback URL (admins)."""
    from sqlalchemy import select

    with _services().db.read() as session:
        return jsonify(sites=[admin.site_view(s) for s in session.scalars(select(Site).order_by(Site.slug))])


@bp.patch("/sites/<slug>")
@require(admin=True, api=True)
def update_site(slug: str) -> ResponseReturnValue:
    """Change a site's thresholds / callback URL (admins); null or "" resets a threshold to the defaults."""
    services = _services()
    settings = services.settings
    with services.db.session() as session:
        site = admin.update_site(session, slug, _body(), setting_defaults(settings),
                                 settings["callbacks.block_private"])
        return jsonify(admin.site_view(site))


@bp.post("/sites/<slug>/rotate-secret")
@require(admin=True, api=True)
def rotate(slug: str) -> ResponseReturnValue:
    """A new secret for a site (shown once); the old one verifies for console.secret_grace_hours more."""
    services = _services()
    with services.db.session() as session:
        site, secret = admin.rotate_secret(session, slug, services.settings["console.secret_grace_hours"])
        until = admin.site_view(site)["previous_secret_until"]
        return jsonify(site=site.slug, secret=secret, previous_valid_until=until)


@bp.get("/lists")
@require(admin=True, api=True)
def lists() -> ResponseReturnValue:
    """Allow/deny entries: ?site=SLUG for a site's (and the global ones), none for the global ones (admins)."""
    services = _services()
    with services.db.read() as session:
        sites = queue_view.site_ids(session)
        slug = request.args.get("site")
        if slug and slug not in sites:
            raise ApiError(404, "not_found", _("no such site"))
        entries = admin.list_entries(session, sites[slug] if slug else None)
        return jsonify(entries=[{"id": e.id, "site": s, "action": e.action, "kind": e.kind, "value": e.value}
                                for e, s in entries])


@bp.post("/lists")
@require(admin=True, api=True)
def add_list_entry() -> ResponseReturnValue:
    """Add {"site": SLUG|null, "action": allow|deny, "kind": word|domain|email|ip, "value"} (admins)."""
    body, services = _body(), _services()
    with services.db.session() as session:
        sites = queue_view.site_ids(session)
        slug = body.get("site")
        if slug is not None and (not isinstance(slug, str) or slug not in sites):
            raise ApiError(400, "invalid_request", _("site must be a registered site's slug or null"))
        entry, new = admin.add_entry(session, sites[slug] if slug else None, str(body.get("action")),
                                     str(body.get("kind")), str(body.get("value") or ""))
        return jsonify(id=entry.id, action=entry.action, kind=entry.kind, value=entry.value), 201 if new else 200


@bp.delete("/lists/<int:entry_id>")
@require(admin=True, api=True)
def delete_list_entry(entry_id: int) -> ResponseReturnValue:
    """Remove one entry (admins)."""
    with _services().db.session() as session:
        if not admin.remove_entry(session, entry_id):
            raise ApiError(404, "not_found", _("no such entry"))
    return "", 204
