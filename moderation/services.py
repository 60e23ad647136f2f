"""The shared resources a process needs, built once from settings, and ``get_services()`` to reach them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from redis import Redis

from moderation.delivery.queueing import Names
from moderation.redis_conn import connect
from moderation.settings import Settings
from moderation.store.db import Database
from moderation.store.group_commit import GroupCommitter
from moderation.store.lists import entries_for

if TYPE_CHECKING:
    from moderation.decide.decider import Decider
    from moderation.decide.trust import Standing

EXTENSION = "moderation"
"""The key under ``app.extensions`` holding the app's Services."""


class Services:
    """Settings plus the lazily-made database, Redis client, queue names and decider of one process."""

    def __init__(self, settings: Settings):
        """Remember the settings; nothing connects or loads until first used."""
        self.settings = settings
        self.names = Names(settings["queue.prefix"])

    @cached_property
    def db(self) -> Database:
        """The process's database (engine created on first use)."""
        return Database(self.settings["database_url"], self.settings["database.sqlite_synchronous"])

    @cached_property
    def committer(self) -> GroupCommitter:
        """Group commit for intake (one per process, shared by its request threads)."""
        return GroupCommitter(self.db.engine)

    @cached_property
    def redis(self) -> Redis:
        """The process's Redis client (connects on first command)."""
        return connect(self.settings)

    @cached_property
    def decider(self) -> Decider:
        """Rules, flood detector, scorer cache and thresholds: one per process, for workers and Akismet alike."""
        from moderation.decide.decider import Decider  # the model stack is imported only where comments are decided
        from moderation.privacy import Pseudonymizer

        hasher = Pseudonymizer.from_settings(self.settings)
        return Decider(self.settings, self.redis, self._list_entries, lambda email: hasher.hash("email", email),
                       self._standings)

    def _list_entries(self, site_ids: Collection[int]) -> list[dict[str, Any]]:
        """The database's allow/deny entries for these sites and the global ones (read fresh every batch)."""
        with self.db.session() as session:
            return entries_for(session, site_ids)

    def _standings(self, pairs: Collection[tuple[int, str]]) -> Mapping[tuple[int, str], Standing]:
        """Authors' earned standing on their sites (read fresh every batch, within trust.window_days)."""
        from moderation.store.trust import standings

        with self.db.read() as session:
            return standings(session, pairs, self.settings["trust.window_days"])

    def init_app(self, app: Flask) -> None:
        """Register these services on the app (read back with :func:`get_services`)."""
        app.extensions[EXTENSION] = self


def get_services(app: Flask | None = None) -> Services:
    """The Services of this app (default: the current one)."""
    services = (app or current_app).extensions[EXTENSION]
    assert isinstance(services, Services)
    return services
