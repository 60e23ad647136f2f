"""The contract's error shape: ``{"error": {"code", "message", "fields"}}`` with the right status."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request


class ApiError(Exception):
    """An error answer; raising it anywhere in a handler returns it to the caller."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body (also used for refused items inside a batch)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}

    def response(self) -> Response:
        """The full Flask response."""
        resp = jsonify(self.body())
        resp.status_code = self.status
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


def json_body() -> Any:
    """The request's parsed JSON body, after the content-type check; 400/415 otherwise (every signed POST/PUT)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
