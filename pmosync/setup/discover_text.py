"""One text layout for `pmo-sync discover`, whatever the tool."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any


def render(found: dict[str, Any], own: Callable[[dict[str, Any]], str] | None = None) -> str:
    """The tool's own renderer when it has one (same layout), else the Project Server one."""
    if own is not None:
        return own(found)
    if found.get("kind") == "pwa":
        return render_pwa(found)
    return render_generic(found)


def render_pwa(found: dict[str, Any]) -> str:
    lines = [f"{found['connection']}: Project Server {found['site_url']}", "", "Projects:"]
    lines += [
        f"  {p['id']}  {p['name']}" + ("  (checked out)" if p.get("checked_out") else "")
        for p in found.get("projects", [])
    ]
    lines += ["", "Enterprise custom fields:"]
    for f in found.get("custom_fields", []):
        values = f"  [{', '.join(map(str, f['values']))}]" if f.get("values") else ""
        where = f.get("entity") or "project"
        writable = "" if f.get("writable") else " (read only)"
        lines.append(
            f"  {f['internal_name']:<24} {where:<9} {f['type']:<10} {f['name']}{writable}{values}"
        )
    lines += ["", "Task fields:"]
    lines += textwrap.wrap(
        ", ".join(found.get("task_fields", [])),
        width=96,
        initial_indent="  ",
        subsequent_indent="  ",
    )
    writable = found.get("writable", {})
    lines += ["", "Writable:"]
    lines += [f"  {entity:<9} {', '.join(names)}" for entity, names in writable.items()]
    lines += ["", "Link types:"]
    lines += [f"  {k} {v}" for k, v in (found.get("link_types") or {}).items()]
    return "\n".join(lines)


def render_generic(found: dict[str, Any]) -> str:
    lines = [f"{found.get('connection')}: {found.get('kind')}"]
    for key, value in found.items():
        if isinstance(value, list):
            lines += ["", f"{key.replace('_', ' ').capitalize()}:"]
            for item in value:
                if isinstance(item, dict):
                    lines.append("  " + "  ".join(str(v) for v in item.values() if v is not None))
                else:
                    lines.append(f"  {item}")
    return "\n".join(lines)
