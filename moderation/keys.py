"""The service's secret key (Flask sessions, and keys derived from it), shared by the web app and the workers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any


def secret_key(settings: Any) -> str:
    """The configured ``secret_key``, or one generated once and kept (mode 600) under the data directory."""
    if settings["secret_key"]:
        return str(settings["secret_key"])
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def derived_key(settings: Any, purpose: str) -> bytes:
    """A key for one purpose, derived from the secret key (a token for one use never verifies for another)."""
    return hmac.new(secret_key(settings).encode(), purpose.encode(), hashlib.sha256).digest()
