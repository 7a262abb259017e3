"""Record comments: ``GET/POST …/{recordId}/comments`` and ``PATCH/DELETE …/comments/{id}``.

Newest first, 100 per page, the offset being the id of the next comment. Only the author
may edit a comment (as in Airtable); ``@[usr…]`` mentions are resolved against the base's
collaborators.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pmosync.sandbox.airtable import errors
from pmosync.sandbox.airtable.formula import format_datetime
from pmosync.sandbox.airtable.store import Base, IdFactory, Record

_MENTION = re.compile(r"@\[(usr[A-Za-z0-9]{14})\]")


def list_comments(record: Record, page_size: Any, offset: str | None) -> dict[str, Any]:
    try:
        size = int(page_size)
    except (TypeError, ValueError):
        raise errors.invalid_request() from None
    if not 1 <= size <= 100:
        raise errors.invalid_request()
    newest_first = list(reversed(record.comments))
    start = 0
    if offset:
        ids = [c["id"] for c in newest_first]
        if offset not in ids:
            raise errors.invalid_offset(offset)
        start = ids.index(offset)
    page = newest_first[start : start + size]
    out: dict[str, Any] = {"comments": [dict(c) for c in page]}
    following = newest_first[start + size : start + size + 1]
    out["offset"] = following[0]["id"] if following else None
    return out


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise errors.invalid_request('"text" must be a non-empty string')
    return text


def _mentions(base: Base, text: str) -> dict[str, Any]:
    people = {p["id"]: p for p in base.collaborators}
    return {
        user_id: {
            "id": user_id,
            "type": "user",
            "displayName": people[user_id]["name"],
            "email": people[user_id]["email"],
        }
        for user_id in _MENTION.findall(text)
        if user_id in people
    }


def add_comment(
    base: Base,
    record: Record,
    body: dict[str, Any],
    author: dict[str, str],
    ids: IdFactory,
    now: datetime,
) -> dict[str, Any]:
    text = _text(body)
    parent = body.get("parentCommentId")
    if parent is not None and parent not in [c["id"] for c in record.comments]:
        raise errors.invalid_request(f"Could not find comment {parent}")
    comment: dict[str, Any] = {
        "id": ids.new("com"),
        "author": dict(author),
        "text": text,
        "createdTime": format_datetime(now),
        "lastUpdatedTime": None,
    }
    if mentioned := _mentions(base, text):
        comment["mentioned"] = mentioned
    if parent is not None:
        comment["parentCommentId"] = parent
    record.comments.append(comment)
    return dict(comment)


def _find(record: Record, comment_id: str) -> dict[str, Any]:
    for comment in record.comments:
        if comment["id"] == comment_id:
            return comment
    raise errors.AirtableError(404, "MODEL_ID_NOT_FOUND", f"Could not find comment {comment_id}")


def update_comment(
    base: Base,
    record: Record,
    comment_id: str,
    body: dict[str, Any],
    author_id: str,
    now: datetime,
) -> dict[str, Any]:
    comment = _find(record, comment_id)
    if comment["author"]["id"] != author_id:
        raise errors.AirtableError(403, "INVALID_PERMISSIONS", "Only the author may edit")
    comment["text"] = _text(body)
    comment["lastUpdatedTime"] = format_datetime(now)
    mentioned = _mentions(base, comment["text"])
    if mentioned:
        comment["mentioned"] = mentioned
    else:
        comment.pop("mentioned", None)
    return dict(comment)


def delete_comment(record: Record, comment_id: str, author_id: str) -> dict[str, Any]:
    comment = _find(record, comment_id)
    if comment["author"]["id"] != author_id:
        raise errors.AirtableError(403, "INVALID_PERMISSIONS", "Only the author may delete")
    record.comments.remove(comment)
    return {"id": comment_id, "deleted": True}
