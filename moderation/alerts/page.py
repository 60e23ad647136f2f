"""The one-tap page behind an alert's links: GET shows the comment and a confirm button, POST applies.

No login and no CSRF cookie: the signed token in the address is the whole
authority (it names one comment and one action, expires, and works once), and a
forged cross-site POST would need the token itself. GET never changes anything,
because mail scanners and chat previews fetch links before anyone taps them.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from moderation.alerts.links import LinkExpired, LinkInvalid, link_key, read_token
from moderation.alerts.onetap import Shown, apply, show
from moderation.services import get_services

bp = Blueprint("alert_links", __name__, template_folder="templates", static_folder="static",
               static_url_path="/alert-static")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
"""No script at all; only our stylesheet; the form posts back to us."""

WORDS = {"approve": (_l("Approve"), _l("approved")), "spam": (_l("Mark as spam"), _l("marked as spam"))}
"""Each action's button, and what the comment then is, in the reader's language (Accept-Language)."""


@bp.after_request
def _headers(response: Response) -> Response:
    """The token is in the address: never cached, never sent on as a referrer, never indexed or framed."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _refused(title: str, message: str, status: int) -> ResponseReturnValue:
    """A clear page saying why the link did nothing."""
    return render_template("alert_link.html", title=title, message=message, comment=None), status


@bp.route("/alert/<token>", methods=["GET", "POST"])
def one_tap(token: str) -> ResponseReturnValue:
    """GET: the comment and a confirm button (changes nothing). POST: apply the link's action once."""
    services = get_services()
    try:
        link = read_token(link_key(services.settings), token, time.time())
    except LinkExpired:
        return _refused(_("Link expired"), _("This link has expired. Open the console to moderate this comment."), 410)
    except LinkInvalid:
        return _refused(_("Link not valid"), _("This link is not valid: it was changed or cut short."), 400)
    posted = request.method == "POST"
    shown = apply(services, link) if posted else show(services, link)
    if shown is None:
        return _refused(_("No such comment"), _("The comment this link names no longer exists."), 404)
    return _page(shown, link.action, posted)


def _page(shown: Shown, action: str, posted: bool) -> ResponseReturnValue:
    """The comment, then either the confirm button, what was done, or why nothing can be done."""
    button, done = (str(word) for word in WORDS[action])
    if shown.problem:
        title, message, status = _("Nothing changed"), shown.problem, 409
    elif posted:
        title = _("Comment %(done)s", done=done)
        message, status = _("Done: the comment is %(done)s; the site has been told.", done=done), 200
    else:
        title = _("%(button)s?", button=button)
        message, status = _("Tap the button to confirm: the comment will be %(done)s.", done=done), 200
    return render_template("alert_link.html", title=title, message=message, comment=shown, action=action,
                           button=button, confirm=not posted and not shown.problem,
                           ok=posted and not shown.problem), status
