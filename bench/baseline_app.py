"""The intake benchmark's BASELINE: the least a queueing web endpoint can do.

A Flask app that parses the JSON body and does one ``rq`` ``Queue.enqueue`` per request, served by
gunicorn with exactly the service's options (``moderation.web.gunicorn_options``) against the same
kind of Redis (the embedded redis-server on a unix socket under MODERATION_DATA_DIR, started by the
bench harness the way ``moderation serve`` starts it). No signature check, no validation, no
database: the ceiling that the real intake is compared with.

Run: MODERATION_DATA_DIR=... python bench/baseline_app.py --port P
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, jsonify, request  # noqa: E402
from gunicorn.app.base import BaseApplication  # noqa: E402

JOB = "baseline_app.never_run"
"""The enqueued job's dotted path (nobody consumes the baseline's queue)."""


def never_run(payload: Any) -> None:
    """The job the baseline enqueues; no worker runs in the baseline."""


def create_app() -> Flask:
    from rq import Queue

    from moderation.redis_conn import connect
    from moderation.settings import load_settings

    settings = load_settings()
    redis = connect(settings)  # one client (connection pool) per process, like the service
    queue = Queue("baseline", connection=redis)
    app = Flask(__name__)

    @app.post("/api/v1/comments")
    def create() -> Any:
        body = json.loads(request.get_data())
        job = queue.enqueue(JOB, body.get("id"), result_ttl=0)
        return jsonify(id=job.id, external_id=body.get("id"), status="queued"), 202

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    return app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def main() -> None:
    from moderation.settings import load_settings
    from moderation.web import gunicorn_options

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _Gunicorn(gunicorn_options(load_settings(), args.host, args.port)).run()


if __name__ == "__main__":
    main()
