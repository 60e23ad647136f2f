"""The console's languages and clocks: complete catalogues, locale formats, per-person language, per-site zones,
stats days cut at local midnight, translated review-API messages, and the commands that set them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from moderation.cli import main
from moderation.console import i18n, stats
from moderation.services import Services
from moderation.store.models import Comment, DecisionEvent, User
from moderation.store.models import Site as SiteRow
from tests.browser.support import add_user, held_comment, login, page_token
from tests.support import Site

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "moderation" / "console" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ID = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}


def _po(lang: str = "id") -> Any:
    """The language's catalogue as babel reads it."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_console_string_is_in_the_catalogue_and_translated(tmp_path: Path) -> None:
    """Extracting the console's strings afresh gives exactly the .po's entries; none is empty, fuzzy or loses a
    placeholder. A new _() string that nobody translated, or a stale entry, fails here."""
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F",
                    "moderation/console/babel.cfg", "-k", "_l", "-k", "_m", "-o", str(pot), "."],
                   cwd=ROOT, check=True)
    with open(pot, "rb") as f:
        source = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    catalogue = _po()
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    assert sorted(source - set(entries)) == [], "run `make translations` and translate the new entries"
    assert sorted(set(entries) - source) == [], "stale entries: run `make translations`"
    assert len(entries) > 200
    for key, message in entries.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {key!r}"
        assert not message.fuzzy, f"fuzzy: {key!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == wanted, f"placeholders differ: {key!r} -> {s!r}"


def test_compiled_catalogue_matches_its_source() -> None:
    """The committed .mo holds exactly the .po's translations (`make translations` rebuilds it)."""
    with open(TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    assert compiled == {_key(m.id): _key(m.string) for m in _po() if m.id}


def _key(value: Any) -> Any:
    """Singular strings as they are, plural forms as a tuple (the .mo reader gives lists)."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_numbers_dates_and_times_follow_the_locale_and_the_zone(app: Flask) -> None:
    """0,68 and 27 Nov 2026 in Indonesian; 0.68 and Nov 27, 2026 in English; exact times in the named zone."""
    moment = datetime(2026, 11, 27, 17, 56, 16, tzinfo=UTC)
    with app.test_request_context("/", headers=ID):
        assert i18n.lang() == "id"
        assert (i18n.score(0.6812), i18n.number(12345), i18n.long_day("2026-11-27")) == ("0,68", "12.345",
                                                                                         "27 Nov 2026")
        assert i18n.exact_time(moment, "Asia/Jakarta") == "28 Nov 2026 00.56.16 WIB"
        assert i18n.exact_time(moment, "Asia/Jayapura") == "28 Nov 2026 02.56.16 WIT"
        assert i18n.ago(moment - timedelta(minutes=5), now=moment) == "5 menit yang lalu"
        html = str(i18n.when(moment, "Asia/Makassar"))
        assert html.startswith('<time datetime="2026-11-27T17:56:16Z" title="28 Nov 2026 01.56.16 WITA">')
    with app.test_request_context("/", headers={"Accept-Language": "en-GB"}):
        assert (i18n.score(0.6812), i18n.long_day("2026-11-27")) == ("0.68", "Nov 27, 2026")
        assert i18n.ago(moment - timedelta(minutes=5), now=moment) == "5 minutes ago"
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert i18n.lang() == "en"  # neither language asked for: console.language


def test_reason_sentences_say_the_score_and_keep_data_escaped(app: Flask) -> None:
    """The uncertain-score reason says in words that the model was unsure and what the score was; n-grams the
    model read are data: escaped, and marked as not for translation."""
    uncertain = {"code": "policy.uncertain", "detail": "spam 0.623 between 0.500 and 0.900"}
    ngram = {"code": "model.spam", "detail": "'<b>gacor' +1.84", "feature": "<b>gacor", "weight": 1.84}
    with app.test_request_context("/", headers=ID):
        assert str(i18n.reason_sentence(uncertain)) == (
            "Model ragu: skor spam 0,62, di antara setuju (di bawah 0,50) dan spam (di atas 0,90).")
        assert str(i18n.reason_sentence(ngram)) == (
            'Huruf-huruf ini menaikkan skor spam: <span class="data" translate="no">&lt;b&gt;gacor</span> (+1,84).')
    with app.test_request_context("/"):
        assert str(i18n.reason_sentence(uncertain)).startswith("The model was unsure: spam score 0.62")


def _at(services: Services, cid: str, moment: datetime) -> None:
    """Move a comment's arrival and its decision events to ``moment``."""
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == cid).values(received_at=moment, decided_at=moment))
        session.execute(update(DecisionEvent).where(DecisionEvent.comment_id == cid).values(created_at=moment))


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Kolkata"])
def test_stats_days_are_cut_at_local_midnight(services: Services, site: Site, zone: str) -> None:
    """Two comments an hour and a second either side of local midnight share a UTC date but count on two local
    days (Asia/Kolkata: a zone whose offset is not whole hours)."""
    tz = ZoneInfo(zone)
    midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    before, after = midnight - timedelta(minutes=50), midnight + timedelta(seconds=1)
    for moment in (before, after):
        _at(services, held_comment(services, site.id, f"dekat tengah malam {moment}"), moment.astimezone(UTC))
    assert before.astimezone(UTC).date() == after.astimezone(UTC).date()
    with services.db.read() as session:
        local = stats.figures(session, 7, zone)
        utc = stats.figures(session, 7, "UTC")
    assert local["days"][-2:] == [before.date().isoformat(), after.date().isoformat()]
    assert local["comments_by_status"]["held"][-2:] == [1.0, 1.0]
    assert local["first_decision_rates"]["hold rate"][-2:] == [1.0, 1.0]
    day = utc["days"].index(before.astimezone(UTC).date().isoformat())
    assert utc["comments_by_status"]["held"][day] == 2.0


def test_review_api_speaks_the_readers_language(client: FlaskClient, services: Services, site: Site) -> None:
    """Human messages follow Accept-Language until the account picks a language with PATCH /me; codes stay."""
    add_user(services, "ani")
    login(client, "ani")
    headers = {"X-CSRFToken": page_token(client), **ID}
    bad = client.post("/api/v1/review/actions", json={"action": "approve", "ids": ["x"], "expected": "held"},
                      headers=headers).get_json()
    assert bad == {"action_id": None, "applied": [], "skipped": {"x": "komentar tidak ditemukan"}}
    refused = client.post("/api/v1/review/actions", json={"action": "hapus", "ids": ["x"], "expected": "held"},
                          headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == {"code": "invalid_request",
                                           "message": "action harus salah satu dari approve, spam, reject, keep"}
    assert client.get("/api/v1/review/queue?sort=nope", headers=ID).get_json()["error"]["message"] == (
        "sort harus salah satu dari oldest, newest, score, score_asc, reports")
    assert client.get("/api/v1/review/me", headers=ID).get_json()["language"] == "id"
    assert client.patch("/api/v1/review/me", json={"language": "xx"}, headers=headers).status_code == 400
    chosen = client.patch("/api/v1/review/me", json={"language": "en"}, headers=headers).get_json()
    assert chosen["language"] == chosen["language_chosen"] == "en"
    again = client.post("/api/v1/review/actions", json={"action": "approve", "ids": ["x"], "expected": "held"},
                        headers=headers).get_json()
    assert again["skipped"] == {"x": "no such comment"}  # the account's choice wins over the browser's
    page = client.get("/", headers=ID).get_data(as_text=True)
    assert '<html lang="en">' in page
    with services.db.session() as session:
        assert session.query(User).filter_by(name="ani").one().language == "en"


def test_language_switcher_form_remembers_the_choice(client: FlaskClient, services: Services, site: Site) -> None:
    """The header's form sets the account's language and goes back where it was; anything else is refused."""
    add_user(services, "ani")
    login(client, "ani")
    token = page_token(client)
    assert '<html lang="id">' in client.get("/stats", headers=ID).get_data(as_text=True)
    moved = client.post("/language", data={"csrf_token": token, "language": "en", "next": "/stats?days=7"},
                        headers=ID)
    assert moved.status_code == 302 and moved.headers["Location"] == "/stats?days=7"
    assert '<html lang="en">' in client.get("/stats", headers=ID).get_data(as_text=True)
    assert client.post("/language", data={"csrf_token": token, "language": "fr"}).status_code == 400
    assert client.post("/language", data={"language": "id"}).status_code == 400  # no CSRF token
    offsite = client.post("/language", data={"csrf_token": token, "language": "id", "next": "//evil.example/"})
    assert offsite.headers["Location"] == "/"


def test_admin_sets_a_site_time_zone(client: FlaskClient, services: Services, site: Site) -> None:
    """Any IANA zone is accepted from the admin form and the API; anything else is refused and changes nothing."""
    add_user(services, "root", "admin")
    login(client, "root")
    token = page_token(client, "/admin")
    client.post("/admin/sites/news", data={"csrf_token": token, "time_zone": "Asia/Jayapura"})
    bad = client.post("/admin/sites/news", data={"csrf_token": token, "time_zone": "Mars/Olympus_Mons",
                                                 "callback_url": "https://news.example/new"},
                      follow_redirects=True, headers=ID)
    assert "bukan nama zona waktu IANA" in bad.get_data(as_text=True)
    thresholds = client.post("/admin/sites/news", data={"csrf_token": token, "approve_below": "0.95",
                                                        "spam_above": "0.5"}, follow_redirects=True, headers=ID)
    assert "Tidak disimpan: ambang batas harus 0 &lt;= approve_below" in thresholds.get_data(as_text=True)
    metadata = client.post("/admin/sites/news", data={"csrf_token": token, "callback_url": "http://169.254.169.254/"},
                           follow_redirects=True, headers=ID).get_data(as_text=True)
    assert "callback_url tidak boleh mengarah ke alamat link-local" in metadata
    api = client.patch("/api/v1/review/sites/news", json={"time_zone": "../../etc/passwd"},
                       headers={"X-CSRFToken": token})
    assert api.status_code == 400
    with services.db.session() as session:
        row = session.query(SiteRow).filter_by(slug="news").one()
        assert row.time_zone == "Asia/Jayapura" and row.callback_url != "https://news.example/new"
    ok = client.patch("/api/v1/review/sites/news", json={"time_zone": "Europe/Lisbon"}, headers={"X-CSRFToken": token})
    assert ok.get_json()["time_zone"] == "Europe/Lisbon"
    assert client.patch("/api/v1/review/sites/news", json={"time_zone": None},
                        headers={"X-CSRFToken": token}).get_json()["time_zone"] is None


@pytest.fixture
def runner(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner whose environment carries the test's settings."""
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    return CliRunner()


def test_commands_set_languages_and_zones(runner: CliRunner) -> None:
    """users add --lang, users lang, sites add --time-zone and sites time-zone; bad values are refused."""
    added = runner.invoke(main, ["users", "add", "sari", "--lang", "id"], input="correct horse battery\n")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {"user": "sari", "role": "moderator", "lang": "id"}
    assert runner.invoke(main, ["users", "add", "x1", "--lang", "fr"], input="correct horse battery\n").exit_code == 2
    assert json.loads(runner.invoke(main, ["users", "lang", "sari", "browser"]).output) == {"user": "sari",
                                                                                            "lang": None}
    site = runner.invoke(main, ["sites", "add", "papua", "--time-zone", "Asia/Jayapura"])
    assert json.loads(site.output)["time_zone"] == "Asia/Jayapura"
    default = json.loads(runner.invoke(main, ["sites", "add", "jawa"]).output)
    assert default["time_zone"] == "Asia/Jakarta"
    refused = runner.invoke(main, ["sites", "add", "mars", "--time-zone", "Mars/Base"])
    assert refused.exit_code == 1 and "not an IANA time zone name" in refused.output
    moved = runner.invoke(main, ["sites", "time-zone", "jawa", "Asia/Makassar"])
    assert json.loads(moved.output) == {"site": "jawa", "time_zone": "Asia/Makassar"}
    listed = [json.loads(line) for line in runner.invoke(main, ["sites", "list", "--json"]).output.splitlines()]
    assert {s["site"]: s["time_zone"] for s in listed} == {"papua": "Asia/Jayapura", "jawa": "Asia/Makassar"}
    assert runner.invoke(main, ["sites", "time-zone", "nope", "UTC"]).exit_code == 1
