"""Prometheus metrics. Counters live per process; with PROMETHEUS_MULTIPROC_DIR set
(``moderation serve`` sets it) one scrape of /metrics sums every process on the machine."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from moderation.services import Services

COMMENTS_RECEIVED = Counter("moderation_comments_received_total", "Comments accepted at intake.", ["site", "outcome"])
DECISIONS = Counter("moderation_decisions_total", "Decisions made.", ["status", "decided_by"])
RULE_HITS = Counter("moderation_rule_hits_total", "Decisions made by a cheap rule, by reason code.", ["code"])
SCORING_SECONDS = Histogram(
    "moderation_scoring_seconds", "Seconds to score one batch (rules + model + policy).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DECISION_LATENCY = Histogram(
    "moderation_decision_latency_seconds", "Seconds from intake to decision, per comment.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
CALLBACK_ATTEMPTS = Counter("moderation_callback_attempts_total", "Callback HTTP attempts.", ["outcome"])
ENQUEUE_FAILURES = Counter("moderation_enqueue_failures_total", "Times Redis was unreachable at intake.")


class LiveCollector(Collector):
    """Gauges read at scrape time: queue depth and age, active model version."""

    def __init__(self, services: Services):
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read Redis, the database and the model registry now."""
        from moderation.health import live_figures  # late: health imports the store

        figures = live_figures(self.services)
        depth = GaugeMetricFamily("moderation_queue_depth", "Comments queued and not yet decided.", labels=["where"])
        depth.add_metric(["database"], figures.get("queued_in_db", float("nan")))
        depth.add_metric(["redis"], figures.get("pending_in_redis", float("nan")))
        yield depth
        age = GaugeMetricFamily("moderation_queue_oldest_seconds", "Age of the oldest queued comment.")
        age.add_metric([], figures.get("oldest_queued_seconds", 0.0))
        yield age
        model = GaugeMetricFamily("moderation_active_model", "The active model (value 1); reading=stale: retrain it.",
                                  labels=["version", "reading"])  # fmt: skip
        model.add_metric([figures.get("model_version") or "none", figures.get("model_reading", "unknown")], 1.0)
        yield model


def render(services: Services) -> tuple[bytes, str]:
    """The exposition text for /metrics."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_live_registry(services))
    return body, CONTENT_TYPE_LATEST


def _live_registry(services: Services) -> CollectorRegistry:
    """A throwaway registry holding only the scrape-time gauges."""
    registry = CollectorRegistry()
    registry.register(LiveCollector(services))
    return registry


def observe_latency(received_at_epoch: float) -> None:
    """Record intake→decision latency for one comment."""
    DECISION_LATENCY.observe(max(0.0, time.time() - received_at_epoch))
