"""What every request meets first: the real client behind trusted proxies, the body limit for chunked bodies,
and HSTS when the client came over HTTPS.

Behind the TLS proxy that ``Secure`` cookies need, ``REMOTE_ADDR`` is the proxy's: rate limits and login
back-off would key every caller on one address. ``serve.trusted_proxies`` says how many proxies in front of
us append to ``X-Forwarded-For`` / ``X-Forwarded-Proto`` (werkzeug's ProxyFix trusts exactly that many
hops, so a client cannot forge its address by sending the header itself).
"""

from __future__ import annotations

import io

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"
"""Strict-Transport-Security sent on answers to HTTPS requests: a year, subdomains too."""


def init_app(app: Flask, settings: Settings) -> None:
    """Trust the configured proxy hops, bound unsized bodies, send HSTS over HTTPS."""
    hops = settings["serve.trusted_proxies"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.before_request(_bound_unsized_body)
    app.after_request(_hsts)


def _bound_unsized_body() -> None:
    """A body sent without Content-Length (chunked) over the limit is a 413, as with Content-Length.

    Werkzeug cuts such a stream at the limit without saying so: the signature over the cut body then
    fails and the caller got a misleading 401. Read one byte past the limit to know, and hand the
    handlers a sized body.
    """
    limit = request.max_content_length
    if limit is None or request.content_length is not None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    environ = request.environ
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    request.__dict__.pop("stream", None)  # werkzeug caches the wrapped stream; let it wrap the new one


def _hsts(response: Response) -> Response:
    """HSTS on every answer to an HTTPS request (``request.is_secure`` honours the trusted proxy's scheme)."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
