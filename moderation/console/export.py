"""The console's export page and download: a site's decisions as JSON lines or formula-safe CSV, streamed.

Per scope, not admin-only: a moderator downloads exactly the sites they may act on (``Account.may_act_on``),
whose comments the queues already show them (an export carries less: no e-mails, IPs or user agents); another
site is a 404, as if it did not exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Response, abort, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from moderation.console import queue_view
from moderation.console.auth import current_account, require
from moderation.console.views import bp
from moderation.export import FORMATS, lines, parse_since, records
from moderation.services import get_services

MIMETYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


@bp.get("/export")
@require()
def export_page() -> ResponseReturnValue:
    """The sites this account may export, each with its download links."""
    with get_services().db.read() as session:
        sites = sorted(queue_view.site_ids(session, current_account()))
    return render_template("export.html", sites=sites, formats=FORMATS)


@bp.get("/export/<slug>.<fmt>")
@require()
def export_download(slug: str, fmt: str) -> ResponseReturnValue:
    """One site's export as a streamed download (``?since=`` an ISO-8601 date or date-time)."""
    services = get_services()
    if fmt not in FORMATS:
        abort(404)
    with services.db.read() as session:
        site_id = queue_view.site_ids(session, current_account()).get(slug)
    if site_id is None:
        abort(404)
    since_text = (request.args.get("since") or "").strip()
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError:
        return render_template("error.html", message="since must be an ISO-8601 date or date-time"), 400
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", slug)
    body = stream_with_context(lines(records(services.db, site_id, slug, since), fmt))
    return Response(body, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}-comments-{stamp}.{fmt}"'})
