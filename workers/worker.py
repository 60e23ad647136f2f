"""The worker process: a plain RQ SimpleWorker on the service's queues, with the model preloaded.

SimpleWorker (no fork per job) was chosen by measurement: forking per job
costs tens of milliseconds and would throw the loaded model away after every
job, while our jobs are few and large (a drain job scores hundreds of comments).
"""

from __future__ import annotations

import logging
import os

from rq.cron import CronScheduler
from rq.worker import SimpleWorker

from moderation.model.registry import ModelNotFound
from moderation.settings import Settings
from workers import jobs, retraining
from workers.context import WorkerContext, install

log = logging.getLogger(__name__)

PRIVACY_INTERVAL = 3600
"""Seconds between runs of the privacy retention job (retention is counted in days; hourly is plenty)."""

ALERTS_CHECK_INTERVAL = 60
"""Seconds between checks of the held queue for alerts (alerts.interval limits how often one is sent)."""

ALERTS_TIMEOUT = 120
"""Seconds one alert run may take (each network step of sending has its own 10 s timeout)."""

RETRAIN_TIMEOUT = 3600
"""Seconds one retraining job may run (every site in turn; each takes well under a minute)."""

RETRAIN_NICE = 10
"""How much the retraining worker lowers its CPU priority below the scoring workers'."""

COMMAND_POLL = 1.0
"""Seconds the worker's command listener waits for a message before looking again (bounds how long stopping takes)."""


class ServiceWorker(SimpleWorker):  # type: ignore[misc]
    """RQ's SimpleWorker whose command listener (pub/sub thread) looks for messages every COMMAND_POLL seconds.

    RQ starts that listener with a 60 s wait and, since redis-py 8, stopping a worker joins it: a worker
    that had no command to read (a burst run, a shutdown) then took up to a minute to stop.
    """

    def subscribe(self) -> None:
        """Listen on this worker's command channel (stop, kill a job), waking every COMMAND_POLL seconds."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=COMMAND_POLL, daemon=True,  # type: ignore[assignment]
                                                       exception_handler=self._pubsub_exception_handler)


def make_worker(ctx: WorkerContext, name: str | None = None) -> ServiceWorker:
    """An RQ SimpleWorker listening on score, callbacks and maintenance queues, most urgent first."""
    return ServiceWorker(ctx.names.queues, connection=ctx.redis, name=name)


def run_worker(settings: Settings, burst: bool = False, name: str | None = None) -> bool:
    """Install this process's context, load the model once, and work (with RQ's scheduler for retries)."""
    ctx = WorkerContext(settings)
    install(ctx)
    try:
        version = ctx.decider.scorers.get().version
        log.info("worker loaded model", extra={"model_version": version})
    except ModelNotFound:
        log.warning("no active model yet; scoring jobs will fail until one is promoted")
    worker = make_worker(ctx, name)
    return worker.work(burst=burst, with_scheduler=True, logging_level=settings["log_level"])


def make_cron(ctx: WorkerContext) -> CronScheduler:
    """The periodic jobs: the sweeper, privacy retention, alerts and retraining.

    The alert check is always registered: besides the global channels of the settings, an admin may give a site
    recipients of its own from the console at any time; with none anywhere a run costs one query of the sites.
    """
    cron = CronScheduler(connection=ctx.redis, logging_level=ctx.settings["log_level"])
    cron.register(jobs.sweep, queue_name=ctx.names.maintenance_queue, interval=ctx.settings["sweeper.interval"],
                  result_ttl=600, name="sweep")
    cron.register(jobs.privacy_retention, queue_name=ctx.names.maintenance_queue, interval=PRIVACY_INTERVAL,
                  result_ttl=600, name="privacy_retention")
    cron.register(jobs.send_alerts, queue_name=ctx.names.maintenance_queue, interval=ALERTS_CHECK_INTERVAL,
                  result_ttl=600, job_timeout=ALERTS_TIMEOUT, name="send_alerts")
    if ctx.settings["retrain.enabled"]:
        cron.register(retraining.retrain_sites, queue_name=ctx.names.retrain_queue,
                      interval=ctx.settings["retrain.interval"], result_ttl=86400, job_timeout=RETRAIN_TIMEOUT,
                      name="retrain_sites")  # fmt: skip
    return cron


def run_retrainer(settings: Settings, burst: bool = False) -> bool:
    """The retraining worker: the retrain queue only, at low CPU priority, so scoring workers keep their cores."""
    os.nice(RETRAIN_NICE)
    ctx = WorkerContext(settings)
    install(ctx)
    worker = ServiceWorker([ctx.names.retrain_queue], connection=ctx.redis)
    return worker.work(burst=burst, with_scheduler=False, logging_level=settings["log_level"])


def run_cron(settings: Settings) -> None:
    """Run the cron scheduler until stopped (one per deployment is enough; extra ones are harmless)."""
    ctx = WorkerContext(settings)
    install(ctx)
    make_cron(ctx).start()
