"""The Akismet-compatible API: a site that speaks to Akismet switches by changing the base URL.

``POST /1.1/verify-key``, ``/1.1/comment-check``, ``/1.1/submit-spam``,
``/1.1/submit-ham`` and ``GET /1.2/usage-limit``, form-encoded, answering like
Akismet's REST API (HTTP 200 with ``true``/``false``/``valid``/``invalid`` bodies).
``api_key`` is the site's API key. comment-check decides in-process with the
process's decider (the workers' rules, model, flood detector and thresholds),
and records the comment already decided through the store's one write path.
"""

from __future__ import annotations

import codecs
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from moderation import limits
from moderation.api.akismet_record import (
    Checked,
    KeySite,
    find_submitted,
    label_submitted,
    lookup_key,
    record_checked,
    usage_this_month,
)
from moderation.api.schemas import NUL_MESSAGE, has_nul
from moderation.decide.decider import Candidate
from moderation.decide.rules import CommentInput
from moderation.decide.states import Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.leader_follower import Batcher
from moderation.services import Services, get_services
from moderation.store.comments import new_comment_id
from moderation.store.db import NulCharacter

log = logging.getLogger(__name__)

bp = Blueprint("akismet", __name__)

THANKS = "Thanks for making the web a better place."
"""Akismet's answer to submit-spam and submit-ham."""

INVALID_HELP = "We were unable to verify your API key: use the api_key printed by `moderation sites add`."
GUARANTEED_SPAM = "akismet-guaranteed-spam"
"""Akismet's documented test author (and e-mail local part) that is always spam."""

BAD_KEY_LIMIT = 30
"""Failed API keys one caller address may send per minute (guessing keys is slow work)."""

FIELDS = {
    "blog": 2048, "user_ip": 64, "user_agent": 1024, "referrer": 2048, "permalink": 2048, "comment_type": 64,
    "comment_author": 255, "comment_author_email": 320, "comment_author_url": 2048, "comment_date_gmt": 64,
    "comment_post_modified_gmt": 64, "blog_lang": 64, "blog_charset": 64, "user_role": 64, "is_test": 8,
    "recheck_reason": 255, "honeypot_field_name": 255, "guid": 64,
}
"""Akismet's documented parameters and the longest value we accept (comment_content: intake.max_content_chars)."""


class _Answer(Exception):
    """Stop handling and send this response (a refusal in Akismet's style)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(_Answer)
def _answer(exc: _Answer) -> Response:
    """Send the refusal as it was built."""
    return exc.response


@bp.errorhandler(NulCharacter)
def _nul(exc: NulCharacter) -> Response:
    """Backstop: a NUL the checks below missed is still Akismet's 400 with a debug header, never a 500."""
    return _bad(str(exc)).response


def _text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer, as Akismet sends them."""
    return Response(body, status=status, mimetype="text/plain", headers=headers or {})


def _bad(message: str) -> _Answer:
    """400 with the reason in the body and in Akismet's debug header."""
    return _Answer(_text(message, 400, {"X-akismet-debug-help": message}))


def _params() -> dict[str, str]:
    """Query and form parameters, the form decoded with the blog_charset it names (UTF-8 by default)."""
    params = request.args.to_dict()
    if request.mimetype == "multipart/form-data":
        params.update(request.form.to_dict())
    elif request.mimetype == "application/x-www-form-urlencoded":
        # Parsed here rather than by request.form, which always decodes as UTF-8.
        text = request.get_data(cache=True).decode("utf-8", errors="replace")
        form = dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))
        charset = form.get("blog_charset", "").strip().lower()
        if charset not in ("", "utf-8", "utf8"):
            try:
                codecs.lookup(charset)  # an unknown name must fail even when nothing needs decoding
                form = dict(parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict"))
            except (LookupError, UnicodeDecodeError, ValueError):
                raise _bad(f"the body cannot be decoded as blog_charset {charset[:40]!r}") from None
        params.update(form)
    return params


def _services() -> Services:
    """The app's database, Redis, settings and decider."""
    return get_services()


def _site(params: dict[str, str], asked: str = "api_key") -> KeySite | None:
    """The site owning the key in ``asked`` (else the other key field), with a per-address brake on failed keys.

    verify-key asks about ``key``: a client may also send its configured ``api_key`` beside it (the stock
    WordPress plugin does), and the answer must be about the key being verified, not the configured one.
    """
    # Keyed on the real client (serve.trusted_proxies), so one guesser never holds up another caller's valid key.
    # From the guesser's own address every key waits: answering a valid key there would turn the 429 into an
    # oracle ("429: wrong, 200: right") and the brake into nothing.
    limiter = limits.limiter_for(_services())
    caller = request.remote_addr or "-"
    wait = limiter.blocked_for("akismet-badkey", caller, BAD_KEY_LIMIT)
    if wait:
        raise _Answer(_text("too many invalid API keys", 429, {"Retry-After": str(wait)}))
    other = "key" if asked == "api_key" else "api_key"
    site = lookup_key(_services(), params.get(asked) or params.get(other) or "")
    if site is None:
        limiter.hit("akismet-badkey", caller, BAD_KEY_LIMIT)
    return site


def _authenticated(params: dict[str, str]) -> KeySite:
    """The caller's site, or Akismet's ``invalid`` answer."""
    site = _site(params)
    if site is None:
        raise _Answer(_text("invalid", headers={"X-akismet-debug-help": INVALID_HELP}))
    return site


def _validated(params: dict[str, str]) -> dict[str, str]:
    """The documented fields, length-checked; ``user_ip`` is required as in Akismet."""
    if not params.get("user_ip", "").strip():
        raise _bad("Missing required field: user_ip.")
    for name, longest in FIELDS.items():
        if len(params.get(name, "")) > longest:
            raise _bad(f"{name} is longer than {longest} characters")
    for name in (*FIELDS, "comment_content"):
        if has_nul(params.get(name, "")):  # stored or looked up, and PostgreSQL's text cannot hold it
            raise _bad(f"{name} {NUL_MESSAGE}")
    longest = _services().settings["intake.max_content_chars"]
    if len(params.get("comment_content", "")) > longest:
        raise _bad(f"comment_content is longer than {longest} characters")
    return params


def _created_at(params: dict[str, str]) -> datetime | None:
    """comment_date_gmt as an aware UTC datetime (ISO 8601 or WordPress's 'YYYY-MM-DD HH:MM:SS')."""
    value = params.get("comment_date_gmt", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("comment_date_gmt is not an ISO 8601 date") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _row(site: KeySite, params: dict[str, str], external_id: str) -> dict[str, Any]:
    """The comment row an Akismet request describes."""
    lang = params.get("blog_lang", "").split(",")[0].strip()[:16] or None
    return {
        "id": new_comment_id(), "site_id": site.id, "external_id": external_id,
        "content": params.get("comment_content", ""), "author_name": params.get("comment_author") or None,
        "author_email": params.get("comment_author_email") or None,
        "author_url": params.get("comment_author_url") or None, "author_ip": params["user_ip"].strip(),
        # WordPress sends user_role only for a logged-in commenter: the site vouches for who they are.
        "author_verified": bool(params.get("user_role", "").strip()),
        "user_agent": params.get("user_agent") or None, "post_url": params.get("permalink") or None,
        "post_id": None, "post_title": None, "parent_id": None, "lang": lang,
        "created_at": _created_at(params), "received_at": datetime.now(UTC), "status": Status.QUEUED.value,
    }


def _is_test(params: dict[str, str]) -> bool:
    """Akismet's is_test flag (the client sends ``true``; WordPress sends ``1``)."""
    return params.get("is_test", "").strip().lower() in {"1", "true", "yes", "on"}


def _trigger(params: dict[str, str]) -> tuple[Status, str, str] | None:
    """Akismet's documented triggers and the honeypot: (status, reason code, detail), or None to score."""
    if params.get("user_role", "").strip().lower() == "administrator":
        return Status.APPROVED, "akismet.administrator", "user_role is administrator"
    author, email = params.get("comment_author", ""), params.get("comment_author_email", "")
    if author.strip().lower() == GUARANTEED_SPAM or email.strip().lower().startswith(GUARANTEED_SPAM + "@"):
        return Status.SPAM, "akismet.test_spam", "Akismet's guaranteed-spam test author"
    honeypot = params.get("honeypot_field_name", "")
    if honeypot and params.get(honeypot, "").strip():
        return Status.SPAM, "akismet.honeypot", "the hidden honeypot field was filled in"
    return None


class Pending(NamedTuple):
    """One comment-check waiting in the batch: the row to store and, for a test trigger, its fixed decision."""

    site: KeySite
    row: dict[str, Any]
    is_test: bool
    fixed: Decision | None


class _Engine:
    """comment-check's batching: concurrent checks in this process are decided together and recorded in one
    transaction (one model call and one fsync for the group instead of one each; see leader_follower)."""

    def __init__(self, services: Services):
        self.services = services
        self._batch: Batcher[Pending, Decision] = Batcher(self._decide_and_record)

    def check(self, pending: Pending) -> Decision:
        """Decide (unless a test trigger already did) and record durably; returns after the commit."""
        return self._batch.submit(pending)

    def _decide_and_record(self, group: list[Pending]) -> list[Decision]:
        """The process's decider for every undecided check (exactly as a worker decides); then record all."""
        undecided = [p for p in group if p.fixed is None]
        made = iter(self.services.decider.decide([_candidate(p) for p in undecided]))
        decisions = [p.fixed or next(made) for p in group]
        checked = [(p.site, Checked(p.row, d, p.is_test)) for p, d in zip(group, decisions, strict=True)]
        record_checked(self.services, checked)
        return decisions


def _candidate(pending: Pending) -> Candidate:
    """What the decider reads of a comment-check."""
    row = pending.row
    comment = CommentInput(row["content"], row["author_name"], row["author_email"], row["author_url"],
                           row["author_ip"], bool(row["author_verified"]))
    return Candidate(row["id"], pending.site.id, comment, pending.site.thresholds)


_engine_lock = threading.Lock()


def _engine() -> _Engine:
    """The app's engine, made on the first check (never at import: loading the model takes time)."""
    with _engine_lock:
        engine = current_app.extensions.get("akismet")
        if engine is None:
            engine = current_app.extensions["akismet"] = _Engine(_services())
        assert isinstance(engine, _Engine)
        return engine


def _limit(site: KeySite, user_ip: str) -> None:
    """The same per-site and per-commenter-IP limits as the signed API."""
    decision = limits.check_site_request(_services(), site.id, user_ip.strip())
    if not decision.allowed:
        raise _Answer(_text(f"rate limited: over {decision.limit} requests per minute", 429, decision.headers()))


@bp.post("/1.1/verify-key")
def verify_key() -> ResponseReturnValue:
    """``valid`` when the key belongs to a site, else ``invalid`` with a debug header."""
    if _site(_params(), asked="key") is None:
        return _text("invalid", headers={"X-akismet-debug-help": INVALID_HELP})
    return _text("valid")


@bp.post("/1.1/comment-check")
def comment_check() -> ResponseReturnValue:
    """Score now, record the comment decided, answer ``true`` (spam or held) or ``false``."""
    params = _params()
    site = _authenticated(params)
    _validated(params)
    _limit(site, params["user_ip"])
    trigger = _trigger(params)
    if trigger is None and params.get("recheck_reason", "").strip():
        known = _recheck(site, params)
        if known is not None:
            return known
    guid = uuid.uuid4().hex
    row = _row(site, params, f"akismet:{guid}")
    fixed = None
    if trigger:
        status, code, detail = trigger
        fixed = Decision(row["id"], site.id, status, "rule", [{"code": code, "detail": detail}])
    decision = _engine().check(Pending(site, row, _is_test(params), fixed))
    headers = {"X-akismet-guid": guid}
    if decision.status == Status.SPAM and not (trigger and trigger[1] == "akismet.test_spam"):
        headers["X-akismet-pro-tip"] = "discard"  # blatant: over spam_above, a deny rule, or the honeypot
    return _text("false" if decision.status == Status.APPROVED else "true", headers=headers)


def _recheck(site: KeySite, params: dict[str, str]) -> Response | None:
    """A recheck (WordPress's "Check for Spam" on its queue) of a comment we already decided: our latest word on it,
    a moderator's if one acted, and no second copy in the queue; None for a comment we never saw (an edited text
    is one: it is checked as a new comment)."""
    services = _services()
    with services.db.session() as session:
        found = find_submitted(session, services.settings, site, params)
        if found is None:
            return None
        status, external = found.status, found.external_id or ""
    guid = external.removeprefix("akismet:") if external.startswith("akismet:") else uuid.uuid4().hex
    # Held, queued (still being decided), spam or rejected: the site keeps it unpublished.
    return _text("false" if status == Status.APPROVED.value else "true", headers={"X-akismet-guid": guid})


def _submit(label: str) -> Response:
    """submit-spam / submit-ham: a training label on the checked comment (or a new labelled one)."""
    params = _params()
    site = _authenticated(params)
    _validated(params)
    _limit(site, params["user_ip"])  # labels feed training: a site's key may not flood them
    if not _is_test(params):  # Akismet's is_test: answered, never learned from
        services = _services()
        with services.db.session() as session:
            found = find_submitted(session, services.settings, site, params)
            row = None if found else _row(site, params, f"akismet:{uuid.uuid4().hex}")
            owed = label_submitted(session, site, label, found, row)
        hand_over(services.redis, services.names, owed)
    return _text(THANKS)


@bp.post("/1.1/submit-spam")
def submit_spam() -> ResponseReturnValue:
    """Missed spam: label it spam (and move our copy to spam)."""
    return _submit("spam")


@bp.post("/1.1/submit-ham")
def submit_ham() -> ResponseReturnValue:
    """A false positive: label it ham (and approve our copy)."""
    return _submit("ham")


@bp.get("/1.2/usage-limit")
def usage_limit() -> ResponseReturnValue:
    """This month's comment-checks; we set no monthly cap (rate limits apply per minute instead)."""
    site = _authenticated(_params())
    usage = usage_this_month(_services(), site)
    return jsonify(limit="none", usage=usage, percentage="0.00", throttled=False)


def init_app(app: Flask) -> None:
    """Register the blueprint (mounted at the root, as Akismet's paths are)."""
    app.register_blueprint(bp)
