"""POSTing to a site's callback URL with a total deadline, a capped answer, and only to addresses we may reach.

``requests``' timeout bounds each socket operation, so a receiver trickling a byte a second could hold a
delivery (and its batch) for as long as it liked. Here a watchdog shuts the socket down when the delivery's
deadline passes, whatever it is waiting for, and at most RESPONSE_CAP bytes of the answer are read.

The host is resolved once and connected to by address, after checking the address: link-local ones (cloud
metadata services live there) are always refused, private and loopback ones when ``callbacks.block_private``
is on. Connecting to the checked address (TLS still verifies the certificate for the host name) leaves no
window for DNS to answer differently the second time. Connections are kept alive per thread and origin.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

RESPONSE_CAP = 65_536
"""Most bytes of a site's answer read (we only need its status)."""

ALWAYS_REFUSED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
                  ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("0.0.0.0/8"),
                  ipaddress.ip_network("100.100.100.200/32"))
"""Link-local and cloud metadata addresses (AWS, GCP, Azure, Alibaba): never a site's callback endpoint."""


class RefusedAddress(OSError):
    """The callback host resolves to an address callbacks may not reach."""


def refused(address: str, block_private: bool) -> bool:
    """Whether callbacks may not connect to this IP address."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in ALWAYS_REFUSED if net.version == ip.version):
        return True
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return True
    return block_private and (ip.is_private or ip.is_loopback)


def path_with_query(url: str) -> str:
    """The path (and query, if any) of a URL: what a callback's request line carries and its signature covers."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
"""Host names cloud providers give their metadata services."""


def url_problem(url: str, block_private: bool = False) -> str | None:
    """Why a callback URL is refused when a site sets it (None: fine); the address is checked again per send."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host or len(url) > 2048:
        return "callback_url must be an http(s) URL"
    if host in METADATA_HOSTS:
        return "callback_url may not point at a cloud metadata service"
    if refused_literal(host, block_private):
        return "callback_url may not point at a link-local, metadata" + (", private or loopback" if block_private
                                                                          else "") + " address"
    return None


def refused_literal(host: str, block_private: bool) -> bool:
    """Whether a URL's host is an IP address nothing may be posted to (a host name is checked when it resolves)."""
    try:
        return refused(str(ipaddress.ip_address(host)), block_private)
    except ValueError:
        return False


def _connect(host: str, port: int, timeout: float, block_private: bool) -> socket.socket:
    """A TCP connection to the first allowed address of ``host``; RefusedAddress when none is allowed."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = [info for info in infos if not refused(str(info[4][0]), block_private)]
    if not allowed:
        raise RefusedAddress(f"{host} resolves only to addresses callbacks may not reach")
    last: OSError | None = None
    for family, kind, proto, _, address in allowed:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        # Small POSTs on a kept-alive connection: without this, Nagle's algorithm meets the peer's delayed
        # ACK and every request waits ~40 ms (urllib3 sets the same option).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"cannot connect to {host}")


class _Plain(http.client.HTTPConnection):
    """HTTP over a checked address."""

    block_private = False

    def connect(self) -> None:
        """Resolve, check, connect."""
        self.sock = _connect(self.host, self.port, self.timeout or 10.0, self.block_private)


class _Tls(http.client.HTTPSConnection):
    """HTTPS over a checked address; the certificate is verified for the host name."""

    block_private = False

    def connect(self) -> None:
        """Resolve, check, connect, then TLS with SNI and hostname verification."""
        sock = _connect(self.host, self.port, self.timeout or 10.0, self.block_private)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    """What one POST gave: the status, or why there is none."""

    status: int | None
    error: str | None


class CallbackClient:
    """POSTs with a total deadline each; keep-alive connections per thread and origin."""

    def __init__(self, deadline: float, block_private: bool = False, context: ssl.SSLContext | None = None):
        """``deadline``: seconds one POST may take from start to the last byte read."""
        self.deadline = deadline
        self.block_private = block_private
        self.context = context or ssl.create_default_context()
        self._local = threading.local()

    def _connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        """This thread's open connection to the origin, or a new one."""
        pool: dict[tuple[str, str, int], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        conn = pool.get((scheme, host, port))
        if conn is None:
            if scheme == "https":
                conn = _Tls(host, port, timeout=self.deadline, context=self.context)
            else:
                conn = _Plain(host, port, timeout=self.deadline)
            conn.block_private = self.block_private  # type: ignore[attr-defined]
            pool[(scheme, host, port)] = conn
        return conn

    def _drop(self, scheme: str, host: str, port: int) -> None:
        """Forget (and close) this thread's connection to the origin."""
        conn = self._local.__dict__.get("pool", {}).pop((scheme, host, port), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close this thread's kept-alive connections (a client used for one POST, as alerts use it)."""
        for conn in self._local.__dict__.pop("pool", {}).values():
            conn.close()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body``; never raises for network trouble, and never takes much longer than the deadline."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https") or not host:
            return Answer(None, "InvalidURL")
        origin = (scheme, host, parts.port or (443 if scheme == "https" else 80))
        path = path_with_query(url)
        ends = time.monotonic() + self.deadline
        for _ in range(2):  # a kept-alive connection the site closed meanwhile gets one fresh try
            conn = self._connection(*origin)
            reused = conn.sock is not None
            answer = self._attempt(conn, path, body, headers, ends - time.monotonic())
            if answer.status is not None or answer.error not in STALE_ERRORS:
                if answer.error is not None:
                    self._drop(*origin)
                return answer
            self._drop(*origin)
            if not reused:
                return answer
        return answer

    def _attempt(self, conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str],
                 remaining: float) -> Answer:
        """One request on one connection, cut off when ``remaining`` seconds have passed."""
        if remaining <= 0:
            return Answer(None, "DeadlineExceeded")
        conn.timeout = remaining
        if conn.sock is not None:
            conn.sock.settimeout(remaining)
        cut = threading.Event()
        watchdog = threading.Timer(remaining, _cut, args=(conn, cut))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(RESPONSE_CAP)
            if not response.isclosed():  # an answer longer than we read: this connection cannot be reused
                conn.close()
            return Answer(response.status, None)
        except RefusedAddress:
            return Answer(None, "RefusedAddress")
        except (OSError, http.client.HTTPException) as exc:
            return Answer(None, "DeadlineExceeded" if cut.is_set() else exc.__class__.__name__)
        finally:
            watchdog.cancel()


STALE_ERRORS = frozenset({"RemoteDisconnected", "BrokenPipeError", "ConnectionResetError", "BadStatusLine"})
"""What a kept-alive connection the site has closed meanwhile looks like (worth one fresh connection)."""


def _cut(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    """The deadline passed: shut the socket down so whatever waits on it returns at once."""
    cut.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
