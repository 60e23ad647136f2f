"""Helpers shared by the console tests (test client and browser): accounts, logins, held comments."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask.testing import FlaskClient

from moderation.decide.states import Decision, Status
from moderation.services import Services
from moderation.store.comments import insert_comments
from moderation.store.decisions import record
from moderation.store.users import create_user

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(services: Services, name: str, role: str = "moderator", password: str = PASSWORD) -> None:
    """Create a console account in the test database."""
    with services.db.session() as session:
        create_user(session, name, role, password)


def csrf_from(html: str) -> str:
    """The CSRF token a rendered page carries."""
    match = CSRF_RE.search(html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    """Log in through the real form (CSRF token from the login page); returns the POST's response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def page_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of a logged-in page (what the console's JavaScript sends as X-CSRFToken)."""
    return csrf_from(client.get(path).get_data(as_text=True))


def held_comment(services: Services, site_id: int, content: str, spam: float = 0.6, abusive: float = 0.05,
                 status: Status = Status.HELD, reasons: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    """A comment taken in by the store and decided by the 'model' (with its audit event); returns its id."""
    item = {"external_id": fields.pop("external_id", None) or f"ext-{uuid.uuid4().hex[:12]}",
            "content": content, **fields}
    reasons = reasons if reasons is not None else [{"code": "policy.uncertain", "detail": f"spam {spam:.3f}"}]
    with services.db.session() as session:
        row = insert_comments(session, site_id, [item])[0]
        decision = Decision(row["id"], site_id, status, "model", reasons, spam=spam, abusive=abusive,
                            model_version="test-model")
        assert record(session, [decision], Status.QUEUED, event=None).applied
    return str(row["id"])
