"""Training labels: validated per head, the latest label for a comment wins."""

from __future__ import annotations

from typing import Any

import pytest

from moderation.store.labels import add_label, latest_labels


def test_latest_label_per_comment_wins(services: Any) -> None:
    """A moderator who changes their mind leaves one label: the last."""
    from moderation.store.comments import insert_comments
    from moderation.store.sites import create_site

    with services.db.session() as session:
        site = create_site(session, "lbl")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": "promo"}])
        add_label(session, text="promo", head="spam", label="spam", source="moderator", comment_id=row["id"])
        add_label(session, text="promo", head="spam", label="ham", source="moderator", comment_id=row["id"])
        add_label(session, text="kasar", head="abusive", label="abusive", source="import")
    with services.db.session() as session:
        assert list(latest_labels(session, "spam")) == [("promo", "ham", "moderator")]
        assert list(latest_labels(session, "abusive")) == [("kasar", "abusive", "import")]


def test_unknown_label_is_refused(services: Any) -> None:
    """A head only takes its own labels."""
    with services.db.session() as session, pytest.raises(ValueError):
        add_label(session, text="x", head="spam", label="abusive", source="import")
