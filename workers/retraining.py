"""The retraining job: each site's own model from its moderators' labels, on a queue only the retrainer works.

It lives apart from ``workers.jobs`` because it is the one job that carries training code (scikit-learn fits,
the public datasets): the scoring workers never import it, and the retrainer worker runs it at low CPU priority.
"""

from __future__ import annotations

import logging
from typing import Any

from workers.context import get_context

log = logging.getLogger(__name__)


def retrain_sites() -> list[dict[str, Any]]:
    """Retrain the sites whose moderators gave enough new labels; one audit line (or skip) per site."""
    ctx = get_context()
    if not ctx.settings["retrain.enabled"]:
        return []
    from training.site_retrain import run_retraining

    results = run_retraining(ctx.settings)
    for result in results:
        run = result.get("retrain", result)  # a trained run's figures sit under "retrain"; a skip's at the top
        log.info("retraining", extra={"site_id": run.get("site_id"), "action": result["action"],
                                      "version": result.get("version"), "why": run.get("why")})  # fmt: skip
    return results
