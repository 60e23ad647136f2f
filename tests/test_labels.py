"""Training labels: validated per head, the latest label for a comment wins, with its comment's author fields."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from moderation.services import Services
from moderation.store.comments import insert_comments
from moderation.store.labels import LabelAuthor, add_label, latest_labels
from moderation.store.models import Comment
from moderation.store.sites import create_site


def test_latest_label_per_comment_wins(services: Services) -> None:
    """A moderator who changes their mind leaves one label: the last."""
    with services.db.session() as session:
        site = create_site(session, "lbl")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": "promo"}])
        add_label(session, text="promo", head="spam", label="spam", source="moderator", comment_id=row["id"])
        add_label(session, text="promo", head="spam", label="ham", source="moderator", comment_id=row["id"])
        add_label(session, text="kasar", head="abusive", label="abusive", source="import")
    with services.db.session() as session:
        assert list(latest_labels(session, "spam")) == [("promo", "ham", "moderator", LabelAuthor())]
        assert list(latest_labels(session, "abusive")) == [("kasar", "abusive", "import", LabelAuthor())]


def test_latest_label_carries_its_comments_author_fields(services: Services) -> None:
    """The winning label of a comment comes with the name, URL and e-mail its comments row holds."""
    author = {"author_name": "GARUDA138", "author_url": "https://garuda138.vip", "author_email": "cs@garuda138.vip"}
    with services.db.session() as session:
        site = create_site(session, "lba")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": "mantap", **author}])
        add_label(session, text="mantap", head="spam", label="ham", source="moderator", comment_id=row["id"])
        add_label(session, text="mantap", head="spam", label="spam", source="moderator", comment_id=row["id"])
    with services.db.session() as session:
        (only,) = latest_labels(session, "spam")
    assert only.label == "spam" and only.author == LabelAuthor(*author.values())


def test_labels_of_an_erased_comment_are_not_training_data(services: Services) -> None:
    """Once a comment is erased its labels are skipped: neither its author nor its placeholder text trains."""
    with services.db.session() as session:
        site = create_site(session, "lbe")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": "x", "author_url": "https://a.id"}])
        add_label(session, text="x", head="spam", label="spam", source="moderator", comment_id=row["id"])
        session.execute(update(Comment).where(Comment.id == row["id"]).values(erased_at=row["received_at"]))
    with services.db.session() as session:
        assert list(latest_labels(session, "spam")) == []


def test_unknown_label_is_refused(services: Services) -> None:
    """A head only takes its own labels."""
    with services.db.session() as session, pytest.raises(ValueError):
        add_label(session, text="x", head="spam", label="abusive", source="import")
