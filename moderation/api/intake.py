"""Intake: store each signed comment durably, answer 202, then hand it to the workers.

The order matters: the database commit happens before the answer, and the
Redis push after the commit. If Redis is down the comment stays ``queued`` in
the database and the sweeper queues it later, so nothing answered 202 is lost.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from moderation import limits, metrics
from moderation.api import bp
from moderation.api.auth import signed
from moderation.api.edits import apply_edit
from moderation.api.errors import ApiError, json_body
from moderation.api.read import own_comment
from moderation.api.schemas import has_nul, parse_item
from moderation.delivery.queueing import submit_for_scoring
from moderation.services import get_services
from moderation.store.comments import (
    existing_by_external,
    get_by_external,
    insert_comments,
    new_row,
    public_view,
)
from moderation.store.models import Comment


def _store(site_id: int, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Comment]]:
    """Insert the new items in one transaction; returns (inserted rows, existing comments by external id)."""
    services = get_services()
    for attempt in range(2):
        try:
            with services.db.session() as session:
                existing = existing_by_external(session, site_id, [i["external_id"] for i in items])
                new = [i for i in items if i["external_id"] not in existing]
                return insert_comments(session, site_id, new), existing
        except IntegrityError:
            # A concurrent request inserted one of these ids first: read again and answer 200 for it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _hand_over(rows: list[dict[str, Any]]) -> None:
    """After the commit: queue the new comments for scoring (Redis failure is tolerated)."""
    services = get_services()
    if rows and not submit_for_scoring(services.redis, services.names, [r["id"] for r in rows]):
        metrics.ENQUEUE_FAILURES.inc()


def _is_edit(item: dict[str, Any], existing: Comment) -> bool:
    """Whether a repeated id carries a higher revision than the stored text (an edit, scored again)."""
    return item.get("revision") is not None and item["revision"] > (existing.revision or 0)


def _edited(site_id: int, comment_id: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """Score and store an edit (moderation.api.edits); the comment's new view (with the site's mode)."""
    view = apply_edit(get_services(), site_id, comment_id, item)
    return {**view, "mode": g.site.mode} if view is not None else None


def _view(row: dict[str, Any]) -> dict[str, Any]:
    """The public view of a just-inserted row."""
    return public_view(Comment(**row), g.site.mode)


@bp.post("/comments")
@signed
def create_comment() -> ResponseReturnValue:
    """Accept one comment: 202 when new, 200 with its current state when the site sent it before."""
    services = get_services()
    item = parse_item(json_body(), services.settings["intake.max_content_chars"])
    row = new_row(g.site.id, item)
    # Insert first and look only on conflict: repeats are rare, and this spares every new comment a SELECT.
    if not services.committer.insert(row):
        with services.db.session() as session:
            existing = get_by_external(session, g.site.id, item["external_id"])
            assert existing is not None  # the insert conflicted on exactly this (site, external id)
            view, newer = public_view(existing, g.site.mode), _is_edit(item, existing)
        if newer:
            view = _edited(g.site.id, view["id"], item) or view
        metrics.COMMENTS_RECEIVED.labels(g.site.slug, "edit" if newer else "repeat").inc()
        return jsonify(view), 200
    rows = [row]
    _hand_over(rows)
    metrics.COMMENTS_RECEIVED.labels(g.site.slug, "new").inc()
    return jsonify(_view(rows[0])), 202


def _parse_batch(body: Any, max_items: int, max_chars: int) -> list[dict[str, Any] | ApiError]:
    """Validate the envelope (400 when malformed) and each item (an ApiError in its slot when refused)."""
    if not isinstance(body, dict) or not isinstance(body.get("comments"), list):
        raise ApiError(400, "invalid_body", 'send {"comments": [...]}')
    comments = body["comments"]
    if not comments or len(comments) > max_items:
        raise ApiError(400, "invalid_body", f"send between 1 and {max_items} comments")
    parsed: list[dict[str, Any] | ApiError] = []
    for raw in comments:
        try:
            parsed.append(parse_item(raw, max_chars))
        except ApiError as exc:
            parsed.append(exc)
    return parsed


def _batch_results(parsed: list[dict[str, Any] | ApiError], rows: list[dict[str, Any]],
                   existing: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per input item, in order; a repeated id within the batch is a 200 repeat (an edit too)."""
    new_by_ext = {r["external_id"]: r for r in rows}
    seen: set[str] = set()
    results: list[dict[str, Any]] = []
    for entry in parsed:
        if isinstance(entry, ApiError):
            results.append({"code": entry.status, **entry.body()})
            continue
        ext = entry["external_id"]
        if ext in new_by_ext and ext not in seen:
            results.append({**_view(new_by_ext[ext]), "code": 202})
        else:
            view = _view(new_by_ext[ext]) if ext in new_by_ext else existing[ext]
            results.append({**view, "code": 200})
        seen.add(ext)
    return results


def _limit_commenters(site_id: int, parsed: list[dict[str, Any] | ApiError]) -> list[dict[str, Any] | ApiError]:
    """The per-commenter-IP limit on every item: an item over its IP's allowance is refused in its slot (429).

    Without it a batch would be a way around the limit that single comments meet at the door.
    """
    slots = [(n, str(e["author_ip"]).strip()[:64]) for n, e in enumerate(parsed)
             if not isinstance(e, ApiError) and e.get("author_ip") and str(e["author_ip"]).strip()]
    if not slots:
        return parsed
    decisions = limits.check_commenters(get_services(), site_id, [ip for _, ip in slots])
    limited = list(parsed)
    for (n, _), decision in zip(slots, decisions, strict=True):
        if not decision.allowed:
            limited[n] = ApiError(429, "rate_limited", f"this commenter is over {decision.limit} comments per "
                                  "minute", headers=decision.headers())
    return limited


def _answer(results: list[dict[str, Any]], parsed: list[dict[str, Any] | ApiError]) -> ResponseReturnValue:
    """The items' common code, else 207; a batch refused wholly for rate carries the longest Retry-After."""
    codes = {r["code"] for r in results}
    status = codes.pop() if len(codes) == 1 else 207
    waits = [int(e.headers["Retry-After"]) for e in parsed if isinstance(e, ApiError) and "Retry-After" in e.headers]
    headers = {"Retry-After": str(max(waits))} if status == 429 and waits else {}
    return jsonify(results=results), status, headers


@bp.post("/comments/batch")
@signed
def create_batch() -> ResponseReturnValue:
    """Accept up to batch_max_items comments; each item gets its own code, the whole 207 when they differ."""
    settings = get_services().settings
    parsed = _parse_batch(json_body(), settings["intake.batch_max_items"], settings["intake.max_content_chars"])
    parsed = _limit_commenters(g.site.id, parsed)
    unique: dict[str, dict[str, Any]] = {}
    for entry in parsed:
        if not isinstance(entry, ApiError):
            unique.setdefault(entry["external_id"], entry)
    rows, existing = _store(g.site.id, list(unique.values())) if unique else ([], {})
    _hand_over(rows)
    views = {ext: public_view(c, g.site.mode) for ext, c in existing.items()}
    for ext, comment in existing.items():
        if _is_edit(unique[ext], comment):
            views[ext] = _edited(g.site.id, comment.id, unique[ext]) or views[ext]
    results = _batch_results(parsed, rows, views)
    metrics.COMMENTS_RECEIVED.labels(g.site.slug, "new").inc(len(rows))
    return _answer(results, parsed)


@bp.put("/comments/<comment_id>")
@signed
def edit_comment(comment_id: str) -> ResponseReturnValue:
    """Replace a comment's text (by service id) and score it again; 200 with its new standing."""
    services = get_services()
    if has_nul(comment_id):  # a 404 before the body is read, the order this route has always answered in
        raise ApiError(404, "not_found", "no such comment")
    body = json_body()
    with services.db.read() as session:
        external_id = own_comment(session, comment_id).external_id
    if isinstance(body, dict) and "id" not in body:
        body = {**body, "id": external_id}
    item = parse_item(body, services.settings["intake.max_content_chars"])
    if item["external_id"] != external_id:
        raise ApiError(422, "invalid_fields", "id is not this comment's external id",
                       {"id": f"this comment's id is {external_id!r}"})
    view = _edited(g.site.id, comment_id, item)
    if view is None:
        raise ApiError(404, "not_found", "no such comment")
    return jsonify(view), 200
