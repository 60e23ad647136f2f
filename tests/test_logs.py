"""Logs are JSON lines and never carry secrets or comment bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from moderation.logs import JsonFormatter
from tests.support import Site, signed_request


def test_json_lines_redact_sensitive_extras() -> None:
    """Extra fields named like secrets or personal data are replaced before writing."""
    record = logging.makeLogRecord({"msg": "site %s", "args": ("news",), "levelname": "INFO", "name": "t",
                                    "secret": "s3cr3t", "content": "isi komentar", "comments": 3})
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "site news" and line["comments"] == 3
    assert line["secret"] == "[redacted]" and line["content"] == "[redacted]"


def test_the_walk_logs_neither_secret_nor_body(client: Any, site: Site, run_worker: Callable[[], bool],
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Through intake, scoring and callback at DEBUG, no record holds the site secret or the comment text."""
    marker = "Komentar-rahasia-7f3a slot gacor maxwin"
    caplog.set_level(logging.DEBUG)
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "log1", "content": marker})
    run_worker()
    formatter = JsonFormatter()
    for record in caplog.records:
        if record.levelno < logging.INFO:
            continue
        text = formatter.format(record)
        assert site.secret not in text and "rahasia-7f3a" not in text, text
