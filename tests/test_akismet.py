"""The real PyPI `akismet` client (sync and async) against our server on a real socket: verify, check, submit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import akismet
import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from moderation.services import Services
from moderation.store.models import Comment, TrainingLabel
from tests.support import Site, serve_app

BLOG = "https://news.example.id"
HAM = "Terima kasih infonya min, sangat bermanfaat bagi warga di kampung kami"
JUDOL = "Situs gacor hari ini, dijamin maxwin, depo 10rb langsung jp, daftar sekarang juga bosku"
PINJOL = "Info pinjaman online cepat cair tanpa jaminan, hubungi WA 081234567890 sekarang juga"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by a threaded werkzeug server on a free loopback port."""
    with serve_app(app) as url:
        yield url


def _rewrite(request: httpx.Request, base: httpx.URL) -> None:
    """Point a request meant for rest.akismet.com at our server (the client's base URL is fixed)."""
    request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)


class RewriteTransport(httpx.HTTPTransport):
    """A real HTTP transport that sends Akismet's URLs to our server."""

    def __init__(self, base: str):
        super().__init__()
        self.base = httpx.URL(base)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Rewrite, then send over a real socket."""
        _rewrite(request, self.base)
        return super().handle_request(request)


class AsyncRewriteTransport(httpx.AsyncHTTPTransport):
    """The async twin of RewriteTransport."""

    def __init__(self, base: str):
        super().__init__()
        self.base = httpx.URL(base)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Rewrite, then send over a real socket."""
        _rewrite(request, self.base)
        return await super().handle_async_request(request)


def _sync_client(base: str, key: str) -> akismet.SyncClient:
    """A validated SyncClient talking to our server."""
    http = httpx.Client(transport=RewriteTransport(base), timeout=10)
    return akismet.SyncClient.validated_client(config=akismet.Config(key=key, url=BLOG), http_client=http)


def _labels(services: Services) -> list[tuple[str | None, str, str]]:
    """(comment id, label, source) of every training label."""
    with services.db.session() as session:
        return [(r.comment_id, r.label, r.source) for r in session.scalars(select(TrainingLabel))]


def _comment(services: Services, content: str) -> Comment:
    """The stored comment with this content."""
    with services.db.session() as session:
        found = session.scalar(select(Comment).where(Comment.content == content))
        assert found is not None
        return found


def test_sync_client_verifies_checks_and_submits(live_server: str, site: Site, services: Services) -> None:
    """SyncClient: key verified, SPAM/DISCARD/HAM right on real examples, submit-spam/ham accepted and learned."""
    with _sync_client(live_server, site.api_key) as client:
        assert client.verify_key()
        assert client.comment_check("203.0.113.7", comment_content="Halo semua",
                                    comment_author="akismet-guaranteed-spam") == akismet.CheckResponse.SPAM
        assert client.comment_check("203.0.113.8", comment_content=JUDOL, comment_author="Bosku",
                                    comment_type="comment") == akismet.CheckResponse.DISCARD
        assert client.comment_check("203.0.113.9", comment_content=PINJOL,
                                    permalink=BLOG + "/2017/09/x") == akismet.CheckResponse.DISCARD
        assert client.comment_check("203.0.113.10", comment_content=HAM, comment_author="Andi",
                                    user_agent="Mozilla/5.0", blog_lang="id_ID") == akismet.CheckResponse.HAM
        assert client.submit_spam("203.0.113.10", comment_content=HAM, comment_author="Andi")
        assert client.submit_ham("203.0.113.8", comment_content=JUDOL, comment_author="Bosku")
        assert client.usage_limit()["usage"] == 4
    ham, judol = _comment(services, HAM), _comment(services, JUDOL)
    assert (ham.id, "spam", "akismet") in _labels(services) and (judol.id, "ham", "akismet") in _labels(services)
    # The site's word moves our copy too, through the state machine.
    assert ham.status == "spam" and judol.status == "approved"
    assert judol.decided_by == f"moderator:{site.slug}@akismet"


def test_sync_client_with_a_wrong_key_is_refused(live_server: str, site: Site) -> None:
    """validated_client refuses a key we never issued (verify-key answered invalid)."""
    with pytest.raises(akismet.APIKeyError):
        _sync_client(live_server, "0" * 32)


def test_async_client_verifies_checks_and_submits(live_server: str, site: Site, services: Services) -> None:
    """AsyncClient: the same round trip over asyncio."""

    async def walk() -> list[Any]:
        http = httpx.AsyncClient(transport=AsyncRewriteTransport(live_server), timeout=10)
        config = akismet.Config(key=site.api_key, url=BLOG)
        async with akismet.AsyncClient(config=config, http_client=http) as client:
            results = await asyncio.gather(
                client.comment_check("198.51.100.1", comment_content="x", comment_author="akismet-guaranteed-spam"),
                client.comment_check("198.51.100.2", comment_content=JUDOL),
                client.comment_check("198.51.100.3", comment_content=HAM, user_role="subscriber"),
            )
            submitted = [await client.submit_spam("198.51.100.3", comment_content=HAM),
                         await client.submit_ham("198.51.100.2", comment_content=JUDOL)]
            return [await client.verify_key(), *results, *submitted]

    verified, spam, discard, ham, *submitted = asyncio.run(walk())
    assert verified is True and submitted == [True, True]
    assert (spam, discard, ham) == (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD,
                                    akismet.CheckResponse.HAM)
    assert {label for _, label, _ in _labels(services)} == {"spam", "ham"}


def test_async_client_with_a_wrong_key_raises(live_server: str, site: Site) -> None:
    """An unvalidated AsyncClient with a bad key gets Akismet's 'invalid', which the client turns into APIKeyError."""

    async def check() -> Any:
        http = httpx.AsyncClient(transport=AsyncRewriteTransport(live_server), timeout=10)
        async with akismet.AsyncClient(config=akismet.Config(key="nope", url=BLOG), http_client=http) as client:
            return await client.comment_check("198.51.100.1", comment_content=HAM)

    with pytest.raises(akismet.APIKeyError):
        asyncio.run(check())
