"""The console's languages and clocks: Flask-Babel set-up, who reads which language, and every number, date
and time shown, formatted for the reader's locale in the site's own time zone.

Catalogues are ``console/translations/<lang>/LC_MESSAGES/messages.po`` (English is the source language);
the compiled ``.mo`` files are committed beside them (``make translations`` rebuilds both, and a test
fails when a ``.mo`` no longer matches its ``.po``), so a fresh clone runs with nothing to build.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent
from flask import Flask, request
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from moderation.services import get_services
from moderation.store.users import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
"""Where the catalogues live (one folder per language other than English)."""

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
"""Each language in its own words (the switcher shows them so, whatever the page's language)."""

babel = Babel()


def select_locale() -> str:
    """The reader's language: the one their account picked, else the browser's Accept-Language, else the default."""
    from moderation.console.auth import current_account

    account = current_account() if request else None
    if account is not None and account.language in LANGUAGES:
        return account.language
    best = request.accept_languages.best_match(LANGUAGES) if request else None
    return best or str(get_services().settings["console.language"])


def init_app(app: Flask) -> None:
    """Flask-Babel with our catalogues and locale selector, and the formatting filters every template uses."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(score=score, number=number, percent=percent, when=when, exact_time=exact_time,
                                 day=day)
    app.context_processor(template_globals)


def lang() -> str:
    """The current page's language code (what ``<html lang>`` says)."""
    return str(get_locale() or "en")


# ---- numbers ----------------------------------------------------------------------------------------
def score(value: float | None) -> str:
    """A score with two decimals in the reader's locale (0,68 / 0.68); a dash when there is none."""
    return "–" if value is None else format_decimal(value, format="0.00", locale=lang())


def number(value: float | int | None) -> str:
    """A count with the locale's grouping (12.345 / 12,345)."""
    return "–" if value is None else format_decimal(value, locale=lang())


def percent(value: float | None) -> str:
    """A share as a percentage in the reader's locale."""
    return "–" if value is None else format_percent(value, locale=lang())


# ---- times ------------------------------------------------------------------------------------------
def zone(name: str | None) -> ZoneInfo:
    """A zone by IANA name (the configured default when None or unknown: a page never fails on a bad zone)."""
    default = str(get_services().settings["console.time_zone"])
    try:
        return ZoneInfo(name or default)
    except (KeyError, ValueError, OSError):
        return ZoneInfo(default)


def _moment(value: datetime | str | None) -> datetime | None:
    """A datetime from a stored value or the ISO-8601 text the items carry."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def exact_time(value: datetime | str | None, zone_name: str | None = None) -> str:
    """The exact local time in the site's zone with its abbreviation (28 Nov 2026 00.56.16 WIB)."""
    moment = _moment(value)
    if moment is None:
        return "–"
    tz = zone(zone_name)
    locale = lang()
    when, where = format_datetime(moment, "medium", tzinfo=tz, locale=locale), format_datetime(moment, "z", tzinfo=tz,
                                                                                              locale=locale)
    return f"{when} {where}"


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """How long ago, in words (5 menit yang lalu / 5 minutes ago)."""
    moment = _moment(value)
    if moment is None:
        return "–"
    delta = moment - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, threshold=1, locale=lang())


def when(value: datetime | str | None, zone_name: str | None = None) -> Markup:
    """A ``<time>``: relative words, the exact local time on hover, the machine time in ``datetime``."""
    moment = _moment(value)
    if moment is None:
        return Markup("–")
    iso = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, exact_time(moment, zone_name), ago(moment))


def age(seconds: float | None) -> str:
    """A duration in words (12 menit / 3 hari); a dash for none."""
    if seconds is None:
        return "–"
    return format_timedelta(timedelta(seconds=seconds), threshold=2, locale=lang())


def day(value: str) -> str:
    """A YYYY-MM-DD day as the locale writes a short date (27 Nov / Nov 27)."""
    return format_skeleton("MMMd", datetime.fromisoformat(value), locale=lang())


def long_day(value: str) -> str:
    """A YYYY-MM-DD day in the locale's medium form (27 Nov 2026 / Nov 27, 2026)."""
    return format_date(datetime.fromisoformat(value).date(), "medium", locale=lang())


def times(value: datetime | str | None, zone_name: str | None) -> dict[str, str] | None:
    """Exact and relative local forms of a time, for the review API's readers (the detail panel)."""
    moment = _moment(value)
    return None if moment is None else {"exact": exact_time(moment, zone_name), "ago": ago(moment)}


# ---- words for codes ----------------------------------------------------------------------------------
STATUS_WORDS = {"queued": _l("queued"), "approved": _l("approved"), "held": _l("held"), "spam": _l("spam"),
                "rejected": _l("rejected")}
"""Each status as a word in the reader's language (the code stays in data attributes and the API)."""

QUEUE_WORDS = {"held": _l("Held"), "reported": _l("Reported"), "spam": _l("Spam"), "approved": _l("Approved"),
               "rejected": _l("Rejected")}
"""Queue tab names."""

SORT_WORDS = {"oldest": _l("oldest first"), "newest": _l("newest first"), "score": _l("highest spam score first"),
              "score_asc": _l("lowest spam score first"),
              "reports": _l("most reports first")}
"""The queue's sort orders."""

KIND_WORDS = {"word": _l("word"), "domain": _l("domain"), "email": _l("e-mail"), "ip": _l("IP address"),
              "name": _l("name")}
"""What an allow/deny entry matches."""

FLAG_WORDS = {"spam": _l("spam"), "abusive": _l("abusive"), "other": _l("other")}
"""Why a reader reported a comment."""


def status_word(status: str | None) -> str:
    """A status (or queue or sort) code as a word; an unknown code is shown as it is."""
    return str(STATUS_WORDS.get(status or "", status or "–"))


def _number_in(text: str, after: str) -> float | None:
    """The number following ``after`` in a reason's detail ('spam 0.623 > 0.900'), if any."""
    import re

    match = re.search(re.escape(after) + r"\s*([0-9]*\.?[0-9]+)", text)
    return float(match.group(1)) if match else None


def _quoted(text: str) -> str:
    """The quoted part of a rule's detail ("contains 'judi'" -> judi), else the detail."""
    import re

    match = re.search(r"'([^']*)'", text)
    return match.group(1) if match else text


def data(value: Any) -> Markup:
    """Data inside a sentence (a word the model read, a listed domain): escaped, and marked as not for translation."""
    return Markup('<span class="data" translate="no">{}</span>').format(value)


def _m(message: str, **values: Any) -> Markup:
    """A translated sentence as markup: the catalogue's text escaped, each value escaped unless already markup."""
    return Markup(escape(_(message))) % values if values else Markup(escape(_(message)))


def reason_sentence(reason: dict[str, Any]) -> Markup:
    """A plain sentence in the reader's language saying what a reason code means for this comment."""
    code = str(reason.get("code", ""))
    detail = str(reason.get("detail") or "")
    if code == "policy.uncertain":
        return _m("The model was unsure: spam score %(score)s, between approving (below %(low)s) and spam "
                  "(above %(high)s).", score=score(_number_in(detail, "spam")),
                  low=score(_number_in(detail, "between")), high=score(_number_in(detail, "and")))
    if code == "policy.abusive_above":
        return _m("The abusive score %(score)s is above this site's limit of %(limit)s, so a person decides.",
                  score=score(_number_in(detail, "abusive")), limit=score(_number_in(detail, ">")))
    if code == "policy.spam_above":
        return _m("The spam score %(score)s is above the spam limit of %(limit)s.",
                  score=score(_number_in(detail, "spam")), limit=score(_number_in(detail, ">")))
    if code == "policy.approve_below":
        return _m("The spam score %(score)s is below the approval limit of %(limit)s.",
                  score=score(_number_in(detail, "spam")), limit=score(_number_in(detail, "<")))
    if code in ("model.spam", "model.abusive"):
        weight = reason.get("weight")
        words = data(reason.get("feature") or _quoted(detail))
        if isinstance(weight, int | float) and not isinstance(weight, bool):
            words = words + Markup(" ({})").format(format_decimal(weight, format="+0.00;-0.00", locale=lang()))
        if code == "model.spam":
            return _m("These letters pushed the spam score up: %(words)s.", words=words)
        return _m("These letters pushed the abusive score up: %(words)s.", words=words)
    if code.startswith("rule."):
        return _rule_sentence(code, detail)
    if code == "policy.held_cap":
        return _m("So many of this site's comments were already waiting for a moderator that the model decided "
                  "this one by its spam score %(score)s alone.", score=score(_number_in(detail, "spam")))
    if code == "flood.near_duplicate":
        return _m("%(count)s near-identical comments reached this site within a few minutes.",
                  count=number(reason.get("count") or 0))
    if code.startswith("akismet.submit_"):
        return (_m("The site reported it as spam through the Akismet API.") if code.endswith("spam")
                else _m("The site reported it as not spam through the Akismet API."))
    if code.startswith("moderator."):
        return _moderator_sentence(code)
    return _m("A reason this console has no words for yet.")


def _rule_sentence(code: str, detail: str) -> Markup:
    """What an allow/deny rule matched."""
    value = data(_quoted(detail).removeprefix("link to "))
    if code == "rule.deny.domain":
        return _m("It links to a domain on the deny list: %(value)s.", value=value)
    if code == "rule.deny.word":
        return _m("It contains a word on the deny list: %(value)s.", value=value)
    sentences = {
        "rule.deny.email": _l("The author's e-mail address is on the deny list."),
        "rule.deny.ip": _l("The author's IP address is on the deny list."),
        "rule.deny.name": _l("The author's name is on the deny list."),
        "rule.allow.ip": _l("The author's IP address is trusted."),
        "rule.allow.email": _l("The author is logged in and their e-mail address is trusted."),
        "rule.allow.domain": _l("The author is logged in and their website is trusted."),
        "rule.allow.name": _l("The author is logged in and their name is trusted."),
    }
    return escape(str(sentences.get(code, _l("An allow or deny list rule decided it."))))


def _moderator_sentence(code: str) -> Markup:
    """What a moderator did."""
    sentences = {
        "moderator.approve": _l("A moderator approved it."),
        "moderator.spam": _l("A moderator marked it spam."),
        "moderator.reject.abusive": _l("A moderator rejected it as abusive."),
        "moderator.reject.other": _l("A moderator rejected it."),
        "moderator.keep": _l("A moderator kept it published and closed its reports."),
        "moderator.undo": _l("A moderator undid an earlier action."),
    }
    return escape(str(sentences.get(code, _l("A moderator decided it."))))


def strongest(reasons: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The reason to show in a compact row: a moderator's or a rule's if any, else the first."""
    for prefix in ("moderator.", "rule.", "flood.", "policy.abusive_above"):
        for r in reasons:
            if str(r.get("code", "")).startswith(prefix):
                return r
    return reasons[0] if reasons else None


def store_message(message: str) -> str:
    """A refusal from the store, the thresholds or the callback check (which know no Flask, so speak English) in
    the reader's language; a message it does not know is returned as it is."""
    from moderation.store.review import QUEUES, SORTS

    known = {
        f"queue must be one of {', '.join(QUEUES)}": _l("queue must be one of %(choices)s", choices=", ".join(QUEUES)),
        f"sort must be one of {', '.join(SORTS)}": _l("sort must be one of %(choices)s", choices=", ".join(SORTS)),
        "sort=reports is for the reported queue": _l("sort=reports is for the reported queue"),
        "reason is a reason code such as policy.uncertain or rule.deny":
            _l("reason is a reason code such as policy.uncertain or rule.deny"),
        "bad cursor": _l("bad cursor"),
        "bad cursor (made for another sort?)": _l("bad cursor (made for another sort?)"),
        "thresholds need 0 <= approve_below <= spam_above <= 1":
            _l("thresholds need 0 <= approve_below <= spam_above <= 1"),
        "callback_url must be an http(s) URL": _l("callback_url must be an http(s) URL"),
        "callback_url may not point at a cloud metadata service":
            _l("callback_url may not point at a cloud metadata service"),
        "callback_url may not point at a link-local, metadata address":
            _l("callback_url may not point at a link-local, metadata address"),
        "callback_url may not point at a link-local, metadata, private or loopback address":
            _l("callback_url may not point at a link-local, metadata, private or loopback address"),
    }
    return str(known.get(message, message))


def js_messages() -> dict[str, str]:
    """Every text the console's script shows, in the reader's language (%(name)s placeholders filled in JS)."""
    return {
        "queue_done": _("Queue page done. Reload for more."),
        "selected": _("%(n)s selected"),
        "all_selected": _("all %(n)s matching selected"),
        "load_failed": _("Could not load details: %(error)s"),
        "history": _("Author history"),
        "history_none": _("none yet"),
        "identical": _("%(n)s identical comments to this site recently"),
        "reports": _("Reader reports"),
        "closed_by": _("closed by"),
        "trail": _("Audit trail"),
        "nothing_selected": _("Nothing selected."),
        "not_done": _("Not done: %(error)s"),
        "done_approve": _("approved ✓ (u undoes)"),
        "done_spam": _("spam ✓ (u undoes)"),
        "done_reject": _("rejected ✓ (u undoes)"),
        "done_keep": _("kept ✓ (u undoes)"),
        "skipped": _("skipped: %(why)s"),
        "summary": _("%(what)s: %(n)s. Press u to undo."),
        "summary_skipped": _("%(what)s: %(n)s, skipped %(skipped)s. Press u to undo."),
        "undone": _("undone"),
        "undone_n": _("Undone: %(n)s comments."),
        "undo_failed": _("Undo failed: %(error)s"),
        "approve": _("approved"), "spam": _("spam"), "reject": _("rejected"), "keep": _("kept"),
        "trust_revoked": _("trust revoked"), "trust_trusted": _("trusted"), "trust_not_yet": _("not trusted yet"),
        "trust_newcomer": _("newcomer"), "trust_needed": _("%(n)s approved needed"),
        "trust_off": _("earned trust is off: trust.min_approved 0"),
        "trust_line": _("Standing: %(word)s — %(approved)s approved, %(spam)s spam in %(days)s days (%(needed)s)"),
        "trust_restore": _("Restore trust"), "trust_revoke": _("Revoke trust"), "trust_restored": _("Trust restored."),
        "trust_revoked_done": _("Trust revoked."), "trust_failed": _("Could not change trust: %(error)s"),
        **{f"status_{k}": str(v) for k, v in STATUS_WORDS.items()},
        **{f"flag_{k}": str(v) for k, v in FLAG_WORDS.items()},
    }


def template_globals() -> dict[str, Any]:
    """What every console template may use: the page language, the switcher's names, words for codes."""
    return {"lang": lang(), "language_names": LANGUAGE_NAMES, "languages": LANGUAGES, "status_word": status_word,
            "queue_words": QUEUE_WORDS, "sort_words": SORT_WORDS, "reason_sentence": reason_sentence,
            "strongest": strongest, "js_messages": js_messages, "flag_words": FLAG_WORDS, "data": data,
            "run_words": run_words(), "why_words": why_words(),
            "mode_words": {"enforce": _("enforce"), "shadow": _("shadow")}}


def run_words() -> dict[str, str]:
    """What a retraining run did, in the reader's language."""
    return {"promoted": _("promoted"), "refused": _("refused"), "rollback": _("rolled back")}


def why_words() -> dict[str, str]:
    """Why a retraining candidate was refused, in the reader's language."""
    return {"poisoned": _("it would reverse many recent moderator decisions"),
            "not_better": _("not better on the site's newest labels"),
            "worse_base": _("worse on the evaluation sets")}


__all__ = ["babel", "escape", "init_app", "reason_sentence", "select_locale", "times"]
