"""Storage: SQLAlchemy models, the engine, and the few queries each caller needs."""

from moderation.store.db import Database

__all__ = ["Database"]
