"""One RQ worker in burst mode for bench/worker_modes.py: `simple` (SimpleWorker) or `fork` (rq Worker).

Like `moderation worker` (workers/worker.py: install the context, load the model once) but listening only
on the score queue, and timing work(): prints one JSON line {"start": epoch, "end": epoch}.

    MODERATION_DATA_DIR=... python bench/_mode_worker.py simple|fork
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from rq.worker import SimpleWorker, Worker

    from moderation.settings import load_settings
    from workers.context import WorkerContext, install

    kind = sys.argv[1]
    settings = load_settings()
    ctx = WorkerContext(settings)
    install(ctx)
    ctx.decider.scorers.get()  # the model is loaded before work starts (a forking worker's children inherit it)
    cls = SimpleWorker if kind == "simple" else Worker
    worker = cls([ctx.names.score_queue], connection=ctx.redis, name=f"bench-{kind}-{time.monotonic_ns()}")
    start = time.time()
    worker.work(burst=True, logging_level=settings["log_level"])
    end = time.time()
    print(json.dumps({"start": start, "end": end}), flush=True)


if __name__ == "__main__":
    main()
