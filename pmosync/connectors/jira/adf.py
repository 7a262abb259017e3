"""Plain text <-> Atlassian Document Format, for rich-text fields on REST v3.

Canonical text is plain: paragraphs separated by blank lines, line breaks kept. This is
deliberately lossy for marks, mentions and media (the canonical model has no place for
them); it round-trips what pmo-sync itself writes.
"""

from __future__ import annotations

from typing import Any

_BLOCKS = frozenset({"bulletList", "orderedList", "table", "tableRow"})


def text_to_adf(text: str) -> dict[str, Any]:
    """One paragraph per blank-line-separated block, ``hardBreak`` for single newlines."""
    content: list[dict[str, Any]] = []
    normalised = text.replace("\r\n", "\n")
    for block in normalised.split("\n\n") if normalised else []:
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def _text(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard"):
        return str(attrs.get("url", ""))
    children = node.get("content") or []
    if kind == "doc":
        return "\n\n".join(_text(c) for c in children)
    if kind in _BLOCKS:
        return "\n".join(_text(c) for c in children)
    return "".join(_text(c) for c in children)


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc"


def adf_to_text(value: Any) -> str | None:
    """A rich-text value as plain text: ADF is flattened, a string (v2, DC) passes through."""
    if value is None:
        return None
    if is_adf(value):
        return _text(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"not rich text: {type(value).__name__}")
