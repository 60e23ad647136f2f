"""Structured (one JSON object per line) logs that never carry secrets or comment bodies."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

REDACTED_KEYS = frozenset({"secret", "api_key", "password", "signature", "content", "email", "ip"})
"""Extra fields with these names are replaced by a marker before a record is written."""


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; extra fields are included but redacted by name."""

    _standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """One line: time, level, logger, message and any safe extras."""
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._standard and not key.startswith("_"):
                entry[key] = "[redacted]" if key in REDACTED_KEYS else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to standard error as JSON lines (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
