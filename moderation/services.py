"""The handful of shared resources a process needs, built once from settings."""

from __future__ import annotations

from functools import cached_property

from redis import Redis

from moderation.queueing import Names
from moderation.redis_conn import connect
from moderation.settings import Settings
from moderation.store.db import Database
from moderation.store.group_commit import GroupCommitter


class Services:
    """Settings plus lazily-made database, Redis client and queue names."""

    def __init__(self, settings: Settings):
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
