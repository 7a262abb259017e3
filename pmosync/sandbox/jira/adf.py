"""Atlassian Document Format (ADF) helpers for the Jira emulator.

The emulator stores rich text as ADF (what Cloud keeps internally) and renders it as a plain
string for v2 and Data Center, so a value written through one API version reads back through
the other the way it does on a real site.
"""

from __future__ import annotations

import html
from typing import Any

ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"


def from_text(text: str) -> dict[str, Any]:
    """A plain (wiki-markup) string as an ADF doc: one paragraph per blank-line-separated block."""
    blocks = text.replace("\r\n", "\n").split("\n\n") if text else []
    content: list[dict[str, Any]] = []
    for block in blocks:
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def _text_of(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind == "inlineCard":
        return str((node.get("attrs") or {}).get("url", ""))
    children = node.get("content") or []
    if kind == "doc":  # blocks: paragraphs are separated by a blank line, as in wiki markup
        return "\n\n".join(_text_of(c) for c in children)
    if kind in ("bulletList", "orderedList", "table", "tableRow"):
        return "\n".join(_text_of(c) for c in children)
    return "".join(_text_of(c) for c in children)


def to_text(doc: dict[str, Any] | None) -> str | None:
    """ADF back to the plain string v2 and Data Center return."""
    if doc is None:
        return None
    return _text_of(doc)


def to_html(doc: dict[str, Any] | None) -> str | None:
    """What ``expand=renderedFields`` shows: paragraphs as HTML."""
    text = to_text(doc)
    if text is None:
        return None
    paragraphs = [html.escape(p).replace("\n", "<br/>") for p in text.split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def is_adf(value: Any) -> bool:
    """Enough of Atlassian's validation to tell a document from a string or a stray dict."""
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
        and all(isinstance(n, dict) and isinstance(n.get("type"), str) for n in value["content"])
    )
