"""Group commit: many request threads, one transaction per group, duplicates told apart, errors reach every waiter."""

from __future__ import annotations

import threading

from sqlalchemy import event, func, select

from moderation.services import Services
from moderation.store.comments import new_row
from moderation.store.group_commit import GroupCommitter
from moderation.store.models import Comment
from tests.support import Site


def test_concurrent_inserts_share_commits(services: Services, site: Site) -> None:
    """64 threads inserting 20 rows each: all stored, far fewer commits than rows, repeats answered False."""
    committer = GroupCommitter(services.db.engine)
    commits = []
    event.listen(services.db.engine, "commit", lambda conn: commits.append(1))
    results: list[bool] = []
    lock = threading.Lock()

    def post(thread: int) -> None:
        for n in range(20):
            ok = committer.insert(new_row(site.id, {"external_id": f"{thread}-{n}", "content": "isi"}))
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=post, args=(t,)) for t in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 64 * 20
    assert committer.insert(new_row(site.id, {"external_id": "5-5", "content": "lagi"})) is False
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 64 * 20
    assert len(commits) < 64 * 20


def test_a_repeat_inside_a_group_does_not_sink_the_others(services: Services, site: Site) -> None:
    """When one row of a group repeats an id, the others are still inserted and only it answers False."""
    committer = GroupCommitter(services.db.engine)
    committer.insert(new_row(site.id, {"external_id": "dup", "content": "a"}))
    results = {}
    barrier = threading.Barrier(8)

    def post(ext: str) -> None:
        barrier.wait()
        results[ext] = committer.insert(new_row(site.id, {"external_id": ext, "content": "b"}))

    threads = [threading.Thread(target=post, args=(e,)) for e in ["dup", *[f"n{i}" for i in range(7)]]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.pop("dup") is False and all(results.values())


def test_a_database_error_reaches_the_caller(services: Services, site: Site) -> None:
    """A row the database refuses for another reason raises in the thread that sent it."""
    committer = GroupCommitter(services.db.engine)
    bad = new_row(site.id, {"external_id": "x", "content": "c"})
    bad["site_id"] = 999_999  # no such site: foreign key violation on both backends
    try:
        committer.insert(bad)
    except Exception as exc:  # noqa: BLE001
        assert "FOREIGN KEY" in str(exc).upper() or "foreign key" in str(exc)
    else:
        raise AssertionError("expected a foreign-key error")
