"""Exports: one record per comment of one site (JSON lines or formula-safe CSV), streamed, from the CLI and the
console (a moderator only downloads the sites of their scope)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from moderation import export as exporter
from moderation.cli import main
from moderation.console.actions import moderate
from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.users import get_account, set_scope
from tests.browser.support import add_user, held_comment, login
from tests.support import Site

FORMULA = '=HYPERLINK("http://evil.example","klik")'


@pytest.fixture
def runner(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner whose environment carries the test's settings."""
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    return CliRunner()


@pytest.fixture
def two_sites(services: Services, site: Site, make_site: Any) -> tuple[Site, Site, list[str]]:
    """Site 'news' with three decided comments (one later marked spam by a moderator), site 'other' with one."""
    other = make_site("other")
    ids = [held_comment(services, site.id, "Mantap beritanya", spam=0.1, status=Status.APPROVED,
                        external_id="wp-1", author_email="andi@example.id", author_ip="203.0.113.7"),
           held_comment(services, site.id, FORMULA, spam=0.6, external_id="wp-2", author_name="@SUM(A1)"),
           held_comment(services, site.id, "-1+1 dapat hadiah", spam=0.95, status=Status.SPAM, external_id="wp-3")]
    held_comment(services, other.id, "komentar situs lain", external_id="wp-1")
    add_user(services, "ani")
    with services.db.session() as session:
        account = get_account(session, 1)
    assert account is not None
    assert moderate(services, account, [ids[1]], "spam", Status.HELD, note="=cmd|' /C calc'!A0").applied
    return site, other, ids


def _jsonl(text: str) -> list[dict[str, Any]]:
    """Parse JSON lines."""
    return [json.loads(line) for line in text.splitlines() if line]


def test_cli_export_jsonl_holds_one_site_with_every_action(runner: CliRunner, two_sites: Any, tmp_path: Path) -> None:
    """Only the site's comments, with ids, scores, reasons, model, the first decision and the moderator's later
    action; no e-mail or IP."""
    site, _other, ids = two_sites
    out = tmp_path / "news.jsonl"
    result = runner.invoke(main, ["export", "--site", "news", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stderr)["comments"] == 3 and result.stdout == ""
    recs = _jsonl(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in recs] == ids and {r["site"] for r in recs} == {"news"}
    assert [r["external_id"] for r in recs] == ["wp-1", "wp-2", "wp-3"]
    first, second = recs[0], recs[1]
    assert first["status"] == "approved" and first["scores"] == {"spam": 0.1, "abusive": 0.05}
    assert first["model_version"] == "test-model" and first["reasons"][0]["code"] == "policy.uncertain"
    assert first["first_decision"]["status"] == "approved" and first["first_decision"]["by"] == "model"
    assert first["actions"] == []
    assert second["status"] == "spam" and second["decided_by"] == "moderator:ani"
    assert [(a["by"], a["from"], a["to"]) for a in second["actions"]] == [("moderator:ani", "held", "spam")]
    assert second["actions"][0]["at"] and second["content"] == FORMULA
    text = out.read_text(encoding="utf-8")
    assert "andi@example.id" not in text and "203.0.113.7" not in text


def test_cli_export_csv_cells_are_formula_safe(runner: CliRunner, two_sites: Any) -> None:
    """Content, author name and moderator note starting with = @ - get a leading apostrophe; the rest is as stored."""
    result = runner.invoke(main, ["export", "--site", "news", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["external_id"] for r in rows] == ["wp-1", "wp-2", "wp-3"]
    assert rows[1]["content"] == "'" + FORMULA and rows[1]["author_name"] == "'@SUM(A1)"
    assert rows[2]["content"] == "'-1+1 dapat hadiah" and rows[0]["content"] == "Mantap beritanya"
    actions = json.loads(rows[1]["actions"])
    assert actions[0]["note"] == "=cmd|' /C calc'!A0"  # inside a JSON cell that starts with '['
    for row in rows:
        assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in row.values() if v), row
    assert rows[1]["first_status"] == "held" and rows[1]["status"] == "spam"


def test_cli_export_since_and_unknown_site(runner: CliRunner, two_sites: Any) -> None:
    """--since in the future exports nothing; a bad date and an unknown site are clear errors."""
    result = runner.invoke(main, ["export", "--site", "news", "--since", "2999-01-01"])
    assert result.exit_code == 0 and _jsonl(result.stdout) == []
    assert len(_jsonl(runner.invoke(main, ["export", "--site", "news", "--since", "2020-01-01T00:00:00Z"]).stdout)) == 3
    bad = runner.invoke(main, ["export", "--site", "news", "--since", "yesterday"])
    assert bad.exit_code != 0 and "ISO-8601" in bad.output
    missing = runner.invoke(main, ["export", "--site", "nope"])
    assert missing.exit_code != 0 and "no site" in missing.output


def test_export_streams_page_by_page(services: Services, two_sites: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first record comes out after reading one page, not the whole table."""
    site, _other, ids = two_sites
    reads: list[str] = []
    real = exporter.export_page

    def spy(session: Any, site_id: int, after: str, since: Any, limit: int) -> Any:
        reads.append(after)
        return real(session, site_id, after, since, limit)

    monkeypatch.setattr(exporter, "PAGE", 2)
    monkeypatch.setattr(exporter, "export_page", spy)
    stream = exporter.records(services.db, site.id, site.slug)
    assert next(stream)["id"] == ids[0] and reads == [""]
    assert [r["id"] for r in stream] == ids[1:] and reads == ["", ids[1], ids[2]]


def test_console_download_keeps_to_the_moderators_scope(client: Any, services: Services, two_sites: Any) -> None:
    """A moderator scoped to 'news' sees only it on the export page and downloads it; 'other' is a 404; an admin
    downloads both; logged out is refused."""
    site, other, ids = two_sites
    assert client.get("/export/news.csv").status_code in (302, 401)
    with services.db.session() as session:
        set_scope(session, "ani", [site.id])
    login(client, "ani")
    page = client.get("/export").get_data(as_text=True)
    assert "/export/news.csv" in page and "/export/news.jsonl" in page and "/export/other" not in page
    assert client.get("/export/other.jsonl").status_code == 404
    assert client.get("/export/news.xlsx").status_code == 404
    assert client.get("/export/news.jsonl?since=soon").status_code == 400
    answer = client.get("/export/news.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="news-comments-')
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["id"] for r in rows] == ids and rows[1]["content"] == "'" + FORMULA
    add_user(services, "boss", role="admin")
    admin = client.application.test_client()
    login(admin, "boss")
    recs = _jsonl(admin.get("/export/other.jsonl").get_data(as_text=True))
    assert [r["content"] for r in recs] == ["komentar situs lain"] and recs[0]["site"] == "other"
