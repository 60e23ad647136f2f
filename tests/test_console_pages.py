"""Console pages with the Flask test client: permissions for every endpoint, inert text, highlights, SVG, admin."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from moderation.console.highlight import highlight_html, links, segments
from moderation.services import Services, get_services
from moderation.store.models import Comment
from moderation.store.models import Site as SiteRow
from tests.browser.support import add_user, held_comment, login, page_token
from tests.support import Site

HOSTILE = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> '
           '<a href="javascript:alert(3)">klik</a> =HYPERLINK("http://evil.example","x") '
           "lihat www.judi-online.example/daftar")

SAMPLE_ARGS = {"comment_id": "nope", "slug": "news", "entry_id": 999_999, "name": "comments", "filename": "console.js",
               "fmt": "csv"}
ADMIN_ONLY = {"console.admin_page", "console.admin_site", "console.admin_site_alerts", "console.admin_rotate",
              "console.admin_add_entry", "console.admin_delete_entry", "review_api.sites", "review_api.update_site",
              "review_api.rotate", "review_api.lists", "review_api.add_list_entry", "review_api.delete_list_entry"}
PUBLIC = {"console.login", "console.static"}


def _endpoints(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every console and review-API route."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("console", "review_api"):
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{k: SAMPLE_ARGS[k] for k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def _client_as(app: Flask, services: Services, role: str | None) -> tuple[FlaskClient, dict[str, str]]:
    """A client logged in with ``role`` (None: anonymous) and its CSRF header."""
    client = app.test_client()
    if role is None:  # a valid CSRF token (from the login page), so what is tested is the login check
        return client, {"X-CSRFToken": page_token(client, "/login")}
    add_user(services, f"user-{role}", role)
    login(client, f"user-{role}")
    return client, {"X-CSRFToken": page_token(client)}


@pytest.mark.parametrize("role", [None, "moderator", "admin"])
def test_permissions_matrix(app: Flask, services: Services, site: Site, role: str | None) -> None:
    """Anonymous: login or 401 everywhere but /login and assets; moderators: 403 on admin routes; admins: let in."""
    client, headers = _client_as(app, services, role)
    endpoints = _endpoints(app)
    assert len({e for e, _, _ in endpoints}) >= 25
    for endpoint, method, url in endpoints:
        form = {"csrf_token": headers.get("X-CSRFToken", "")}
        resp = client.open(url, method=method, headers=headers, data=form if endpoint.startswith("console") else None,
                           json=None if endpoint.startswith("console") else {})
        where = f"{role} {method} {url}"
        if endpoint in PUBLIC or endpoint == "console.logout":
            assert resp.status_code < 400 or endpoint == "console.login", where
        elif role is None:
            expected = 401 if endpoint.startswith("review_api") else 302
            assert resp.status_code == expected, where
            if expected == 302:
                assert resp.headers["Location"].startswith("/login"), where
        elif endpoint in ADMIN_ONLY and role == "moderator":
            assert resp.status_code == 403, where
        else:
            assert resp.status_code not in (401, 403), where
        if endpoint == "console.logout":  # logging out ends the session (and its CSRF token): start again
            client, headers = _client_as(app, services, None)
            if role:
                login(client, f"user-{role}")
                headers = {"X-CSRFToken": page_token(client)}


def test_hostile_comment_is_inert_in_the_page(client: FlaskClient, services: Services, site: Site) -> None:
    """Escaped text, no live markup, links shown as text only, and a CSP that forbids inline script."""
    held_comment(services, site.id, HOSTILE, author_name='<b onmouseover="x()">Andi</b>',
                 author_url="javascript:alert(4)", post_title="<i>Judul</i>")
    add_user(services, "ani")
    login(client, "ani")
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "<img" not in html and 'href="javascript:' not in html and "<b onmouseover" not in html
    assert "&lt;i&gt;Judul&lt;/i&gt;" in html and "=HYPERLINK(" in html
    assert '<code class="link-text" translate="no">www.judi-online.example/daftar</code>' in html
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert all(src.startswith("/console/static/") for src in re.findall(r'<script src="([^"]+)"', html))


def test_highlight_escapes_first_then_marks() -> None:
    """n-grams are found case-insensitively across whitespace; hits and the rest are both escaped."""
    text = "Main <b>SLOT  gacor</b> & menang"
    html = str(highlight_html(text, ["slot gacor", "ga"]))
    assert html == "Main &lt;b&gt;<mark>SLOT  gacor</mark>&lt;/b&gt; &amp; menang"
    assert "".join(piece for piece, _ in segments(text, ["slot gacor"])) == text
    assert links('a http://x.example/a), b javascript:alert(1) c www.y.example.') == ["http://x.example/a",
                                                                                      "www.y.example"]


def test_reasons_are_highlighted_in_the_queue(client: FlaskClient, services: Services, site: Site) -> None:
    """The model's n-grams are marked in the rendered text."""
    held_comment(services, site.id, "Daftar SLOT gacor <hari> ini", reasons=[
        {"code": "model.spam", "detail": "'slot gacor' +2.1", "feature": "slot gacor", "weight": 2.1}])
    add_user(services, "ani")
    login(client, "ani")
    html = client.get("/").get_data(as_text=True)
    assert "Daftar <mark>SLOT gacor</mark> &lt;hari&gt; ini" in html


def test_stats_page_and_svg_charts(client: FlaskClient, services: Services, site: Site) -> None:
    """The stats page embeds four SVG charts; each is well-formed XML with escaped labels."""
    cid = held_comment(services, site.id, "k")
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == cid).values(model_version="<v&1>"))
    add_user(services, "ani")
    login(client, "ani")
    page = client.get("/stats").get_data(as_text=True)
    charts = re.findall(r'<img src="(/stats/[a-z]+\.svg\?days=30)"', page)
    assert len(charts) == 4 and 'id="held-now">1<' in page
    for url in charts:
        resp = client.get(url)
        assert resp.mimetype == "image/svg+xml"
        root = ET.fromstring(resp.data)
        assert root.tag.endswith("svg")
    models = client.get("/stats/models.svg").get_data(as_text=True)
    assert "&lt;v&amp;1&gt;" in models and "<v&1>" not in models
    assert client.get("/stats/nope.svg").status_code == 404


def test_queue_page_filters_tabs_and_next_page(client: FlaskClient, services: Services, site: Site) -> None:
    """Tabs show counts, the pager link carries the filter, a bad filter is a 400 page."""
    for i in range(3):
        held_comment(services, site.id, f"berita {i}", lang="id")
    add_user(services, "ani")
    login(client, "ani")
    app = client.application
    get_services(app).settings = services.settings.with_overrides({"console.page_size": 2})
    html = client.get("/?lang=id").get_data(as_text=True)
    assert html.count('class="comment"') == 2
    assert re.search(r'data-queue="held">Held <span class="count">3</span>', html)
    next_url = re.search(r'id="next-page" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "lang=id" in next_url
    assert client.get(next_url).get_data(as_text=True).count('class="comment"') == 1
    assert client.get("/?site=nope").status_code == 400


def test_admin_forms(client: FlaskClient, services: Services, site: Site) -> None:
    """Thresholds save through the form; an invalid set is refused whole; lists add and remove; rotation shows once."""
    add_user(services, "root", "admin")
    login(client, "root")
    token = page_token(client, "/admin")
    client.post("/admin/sites/news", data={"csrf_token": token, "approve_below": "0.4", "spam_above": "0.95",
                                           "abusive_above": "", "callback_url": "https://news.example/hook"})
    bad = client.post("/admin/sites/news", data={"csrf_token": token, "approve_below": "0.99", "spam_above": "0.5",
                                                 "callback_url": "ftp://x"}, follow_redirects=True)
    assert b"Not saved" in bad.data
    with services.db.session() as session:
        row = session.query(SiteRow).filter_by(slug="news").one()
        assert (row.approve_below, row.spam_above, row.abusive_above) == (0.4, 0.95, None)
        assert row.callback_url == "https://news.example/hook"
    client.post("/admin/lists", data={"csrf_token": token, "site": "news", "action": "deny", "kind": "word",
                                      "value": "Slot Gacor"})
    page = client.get("/admin").get_data(as_text=True)
    assert "<code translate=\"no\">slot gacor</code>" in page
    entry_id = re.search(r'/admin/lists/(\d+)/delete', page).group(1)
    client.post(f"/admin/lists/{entry_id}/delete", data={"csrf_token": token})
    assert "<code translate=\"no\">slot gacor</code>" not in client.get("/admin").get_data(as_text=True)
    rotated = client.post("/admin/sites/news/rotate", data={"csrf_token": token}).get_data(as_text=True)
    secret = re.search(r'<pre class="secret" translate="no">([0-9a-f]{64})</pre>', rotated).group(1)
    assert secret != site.secret and secret not in client.get("/admin").get_data(as_text=True)


def test_nul_in_console_forms_is_refused_and_changes_nothing(client: FlaskClient, services: Services,
                                                              site: Site) -> None:
    """U+0000 in a search, a list value, a callback URL or a login name: a clear refusal on every backend."""
    add_user(services, "root", "admin")
    login(client, "root")
    token, before = page_token(client, "/admin"), site_callback(services)
    assert client.get("/?q=a%00b").status_code == 400 and client.get("/?post=%00").status_code == 400
    added = client.post("/admin/lists", data={"csrf_token": token, "action": "deny", "kind": "word",
                                              "value": "ju\u0000di"}, follow_redirects=True)
    assert b"Not added: value must not contain the NUL character" in added.data
    saved = client.post("/admin/sites/news", data={"csrf_token": token, "callback_url": "https://x.id/\u0000"},
                        follow_redirects=True)
    assert b"Not saved: callback_url must not contain the NUL character" in saved.data
    assert site_callback(services) == before
    lists = client.get("/admin").get_data(as_text=True).split("Allow / deny lists")[1].split('<table class="admin">')[1]
    assert "ju" not in lists.split("</table>")[0]  # the table alone: the form's random CSRF token may hold "ju"
    fresh = client.application.test_client()
    token = page_token(fresh, "/login")
    refused = fresh.post("/login", data={"name": "ro\u0000ot", "password": "x" * 12, "csrf_token": token})
    assert refused.status_code == 401


def site_callback(services: Services) -> str | None:
    """The news site's callback URL as stored."""
    with services.db.session() as session:
        return session.query(SiteRow).filter_by(slug="news").one().callback_url


def test_admin_lists_take_author_names(client: FlaskClient, services: Services, site: Site) -> None:
    """The list form offers the name kind; a name is stored in the form rules compare (spacing and case folded)."""
    add_user(services, "root", "admin")
    login(client, "root")
    token = page_token(client, "/admin")
    assert "<option value=\"name\">" in client.get("/admin").get_data(as_text=True)
    client.post("/admin/lists", data={"csrf_token": token, "site": "news", "action": "deny", "kind": "name",
                                      "value": "  Joko   WIDODO "})
    assert "<code translate=\"no\">joko widodo</code>" in client.get("/admin").get_data(as_text=True)
